#include "services/api/malformed_requests.h"

#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "services/common/log.h"

namespace pstrack {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

// The request type of "/package.Service/Method", or "" when unknown.
std::string RequestType(absl::string_view method) {
  if (!method.empty() && method.front() == '/') method.remove_prefix(1);
  const size_t slash = method.find('/');
  if (slash == absl::string_view::npos) return "";
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      std::string(method.substr(0, slash)));
  if (service == nullptr) return "";
  const auto* m = service->FindMethodByName(std::string(method.substr(slash + 1)));
  return m == nullptr ? "" : m->input_type()->full_name();
}

class MalformedRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(ServerRpcInfo* info) : info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;
    }
    if (malformed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      methods->ModifySendStatus(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, MalformedRequestMessage(info_->method(), -1)));
    }
    methods->Proceed();
  }

 private:
  ServerRpcInfo* info_;
  bool malformed_ = false;
};

class Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    // A client or bidirectional stream reads "no message" at its end too;
    // only a request read before the handler can fail to parse here.
    if (info->type() != ServerRpcInfo::Type::UNARY && info->type() != ServerRpcInfo::Type::SERVER_STREAMING) {
      return nullptr;
    }
    return new MalformedRequestInterceptor(info);
  }
};

struct LogLimit {
  absl::Time last;
  int suppressed = 0;
};

void RateLimitedProtobufLog(google::protobuf::LogLevel level, const char* /*file*/, int /*line*/,
                            const std::string& message) {
  static std::mutex mu;
  static auto* limits = new absl::flat_hash_map<std::string, LogLimit>();
  int suppressed = 0;
  {
    std::lock_guard lock(mu);
    if (limits->size() > 1000) limits->clear();  // bounded, whatever the texts
    LogLimit& limit = (*limits)[message.substr(0, 200)];
    const absl::Time now = absl::Now();
    if (now - limit.last < absl::Seconds(1)) {
      ++limit.suppressed;
      return;
    }
    limit.last = now;
    suppressed = std::exchange(limit.suppressed, 0);
  }
  const std::string line = absl::StrCat("protobuf: ", message.substr(0, 500),
                                        suppressed > 0 ? absl::StrCat(" (and ", suppressed, " more like it)") : "");
  if (level >= google::protobuf::LOGLEVEL_ERROR) {
    LogWarning(line);  // a caller's bad request, not the server's error
  } else {
    LogInfo(line);
  }
}

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MalformedRequestInterceptorFactory() {
  return std::make_unique<Factory>();
}

std::string MalformedRequestMessage(absl::string_view method, int position) {
  std::string type = RequestType(method);
  if (type.empty()) type = "request";
  if (position < 0) {
    return absl::StrCat("the request is not a valid ", type,
                        " message (it does not parse: a wrong field type, a string that is not UTF-8, or bytes that "
                        "are not protobuf)");
  }
  return absl::StrCat("message ", position, " of the stream is not a valid ", type,
                      " message (it does not parse: a wrong field type, a string that is not UTF-8, or bytes that "
                      "are not protobuf)");
}

void RouteProtobufLogs() {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(&RateLimitedProtobufLog); });
}

}  // namespace pstrack
