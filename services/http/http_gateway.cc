#include "services/http/http_gateway.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/message.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"
#include "services/common/in_process.h"
#include "services/common/log.h"
#include "services/common/telemetry.h"
#include "services/common/spreadsheet.h"
#include "services/http/export.h"
#include "services/http/routes.h"
#include "services/http/static_files.h"
#include "services/http/transcode.h"

namespace pstrack::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

using google::protobuf::Message;

constexpr size_t kHeaderLimit = 16 << 10;
constexpr size_t kUploadChunk = 64 << 10;
constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

grpc::ByteBuffer ToByteBuffer(const Message& message) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  return grpc::ByteBuffer(&slice, 1);
}

bool FromByteBuffer(const grpc::ByteBuffer& buffer, Message* message) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  std::string bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return message->ParseFromString(bytes);
}

// "30S", "500m", "2M", "1H", "100u", "5n" (gRPC's timeout header, as
// grpc-gateway accepts it).
// At most 8 digits, as gRPC's own header; past a year it is a year.
std::optional<std::chrono::nanoseconds> ParseGrpcTimeout(absl::string_view v) {
  if (v.size() < 2 || v.size() > 9) return std::nullopt;
  int64_t n;
  if (!absl::SimpleAtoi(v.substr(0, v.size() - 1), &n) || n < 0) return std::nullopt;
  absl::Duration d;
  switch (v.back()) {
    case 'H': d = absl::Hours(n); break;
    case 'M': d = absl::Minutes(n); break;
    case 'S': d = absl::Seconds(n); break;
    case 'm': d = absl::Milliseconds(n); break;
    case 'u': d = absl::Microseconds(n); break;
    case 'n': d = absl::Nanoseconds(n); break;
    default: return std::nullopt;
  }
  return absl::ToChronoNanoseconds(std::min(d, absl::Hours(24 * 365)));
}

std::string Trailer(const grpc::ClientContext& ctx, const std::string& key) {
  const auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find(key);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

}  // namespace

// What every connection shares.
struct HttpGateway::Impl {
  GatewayOptions options;
  RouteTable routes;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  std::optional<ssl::context> tls;
  std::unique_ptr<net::io_context> io;
  std::optional<tcp::acceptor> acceptor;  // on a strand of `io`
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  int port = 0;
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  // Requests between their header and their response's last byte:
  // shutdown lets them finish.
  std::atomic<int> answering{0};
  telemetry::Family<telemetry::CounterSeries>* responses = &telemetry::Registry::Global().Counter(
      "pstrack_http_responses_total", "HTTP responses of the HTTP/JSON gateway, by status.", {"status"});

  // Calls in flight. `calls` and `streams` hold the contexts shutdown may
  // cancel: a context leaves them (Unregister) before its call's last
  // handler is posted to `io`, which may free it. `live` counts the calls
  // whose gRPC callback has not finished with `io` yet (Done, after that
  // post): `io` may stop only when it is zero.
  absl::Mutex mu;
  std::set<grpc::ClientContext*> calls ABSL_GUARDED_BY(mu);
  std::set<grpc::ClientContext*> streams ABSL_GUARDED_BY(mu);
  int live ABSL_GUARDED_BY(mu) = 0;

  void AddCall(grpc::ClientContext* ctx, bool stream) {
    absl::MutexLock lock(&mu);
    calls.insert(ctx);
    if (stream) streams.insert(ctx);
    ++live;
    if (stopping.load()) ctx->TryCancel();
  }
  void Unregister(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu);
    calls.erase(ctx);
    streams.erase(ctx);
  }
  void Done() {
    absl::MutexLock lock(&mu);
    --live;
  }
  bool NoLiveCalls() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return live == 0; }
  void Accept();

  // The sessions that still wait in `io` are freed with it, while what
  // they use (tls, the counters) is still here.
  ~Impl() {
    acceptor.reset();
    work.reset();
    io->stop();
    for (std::thread& t : threads) t.join();
    threads.clear();
    io.reset();
  }
};

namespace {

// Header values that become gRPC metadata: gRPC accepts printable ASCII
// only (anything else would abort the process in gRPC's client code), and
// they are short.
bool ValidMetadataValue(absl::string_view v) {
  if (v.size() > 4096) return false;
  for (unsigned char c : v) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// Holds the request's metadata: credentials, request id, the caller's
// address (for the audit: services/api/rpc_guard.cc trusts it only with
// the in-process secret), the deadline. An error names a header that
// cannot be passed on.
template <class Request>
absl::Status PrepareContext(const Request& req, const std::string& peer, const std::string& request_id,
                            grpc::ClientContext* ctx) {
  for (const char* key : {"authorization", "x-api-key"}) {
    auto it = req.find(key);
    if (it == req.end()) continue;
    const absl::string_view value(it->value().data(), it->value().size());
    if (!ValidMetadataValue(value)) return absl::InvalidArgumentError(absl::StrCat("header ", key, ": printable ASCII only"));
    ctx->AddMetadata(key, std::string(value));
  }
  ctx->AddMetadata("x-request-id", request_id);
  ctx->AddMetadata(kInProcessSecretKey, InProcessSecret());
  ctx->AddMetadata(kHttpPeerKey, peer);
  auto it = req.find("grpc-timeout");
  if (it != req.end()) {
    auto timeout = ParseGrpcTimeout(absl::string_view(it->value().data(), it->value().size()));
    if (!timeout) return absl::InvalidArgumentError("header grpc-timeout: a number and a unit (H, M, S, m, u, n), \"30S\"");
    ctx->set_deadline(std::chrono::system_clock::now() + *timeout);
  }
  return absl::OkStatus();
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpGateway::Impl& gateway, Stream stream, std::string peer)
      : gateway_(gateway), stream_(std::move(stream)), peer_(std::move(peer)) {}
  ~Session() {
    EndAnswer();
    gateway_.connections.fetch_sub(1);
  }

  void Run(bool over_limit) {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this(), over_limit] {
      self->over_limit_ = over_limit;
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        self->ReadHeader();
      } else {
        beast::get_lowest_layer(self->stream_).expires_after(self->IoTimeout());
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return self->Close();  // not TLS, or the client gave up: nothing to answer
          self->ReadHeader();
        });
      }
    });
  }

 private:
  using Self = Session<Stream>;

  std::chrono::steady_clock::duration IoTimeout() const {
    return absl::ToChronoNanoseconds(gateway_.options.io_timeout);
  }
  void ArmIo() { beast::get_lowest_layer(stream_).expires_after(IoTimeout()); }

  // A request is being answered from its header to its response's last
  // byte: shutdown lets it finish (Impl::answering).
  void BeginAnswer() {
    if (!answering_) {
      answering_ = true;
      gateway_.answering.fetch_add(1);
    }
  }
  void EndAnswer() {
    if (answering_) {
      answering_ = false;
      gateway_.answering.fetch_sub(1);
    }
  }

  // Posts `fn` to this session's strand from a gRPC thread. The session's
  // last reference may go with the handler: never on the gRPC thread, which
  // may run after the gateway is gone.
  template <class Fn>
  static void PostTo(std::shared_ptr<Self> self, Fn fn) {
    auto executor = self->stream_.get_executor();
    net::post(executor, [self = std::move(self), fn = std::move(fn)]() mutable { fn(*self); });
  }

  void ReadHeader() {
    header_.emplace();
    header_->header_limit(kHeaderLimit);
    // Checked once the route is known. (Not boost::none: Beast 1.74 then
    // refuses every Content-Length.)
    header_->body_limit(kNoLimit);
    body_.reset();
    upload_.reset();
    beast::get_lowest_layer(stream_).expires_after(
        requests_ == 0 ? IoTimeout() : absl::ToChronoNanoseconds(gateway_.options.keep_alive_timeout));
    read_pending_ = true;
    bhttp::async_read_header(stream_, buffer_, *header_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->read_pending_ = false;
      self->OnHeader(ec);
    });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      return Close();
    }
    ++requests_;
    BeginAnswer();
    request_id_.clear();
    headers_.clear();
    retry_after_.clear();
    if (ec) {
      const bool too_large = ec == bhttp::error::header_limit;
      return Reply(too_large ? 431 : 400, StatusJson(3, absl::StrCat("malformed HTTP request: ", ec.message())),
                   /*keep_alive=*/false);
    }
    const auto& req = header_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    // The caller's request id, or one made here (the gRPC handler gets it
    // and logs with it; the answer carries it back).
    auto given = req.find("x-request-id");
    if (given != req.end() && IsValidRequestId(absl::string_view(given->value().data(), given->value().size()))) {
      request_id_ = std::string(given->value().data(), given->value().size());
    } else {
      request_id_ = NewRequestId();
    }
    if (over_limit_) {
      retry_after_ = "1";
      return Reply(503, StatusJson(14, "too many open HTTP connections: retry later"), false);
    }
    const absl::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    path_ = std::string(target.substr(0, q));
    query_ = q == absl::string_view::npos ? std::string() : std::string(target.substr(q + 1));
    method_ = std::string(req.method_string());

    match_ = RouteMatch{};
    std::vector<std::string> allowed;
    const bool api = gateway_.options.serve_api && absl::StartsWith(path_, "/v1/");
    outcome_ = api ? gateway_.routes.Match(method_, path_, &match_, &allowed) : RouteTable::Outcome::kNoPath;
    allowed_ = absl::StrJoin(allowed, ", ");
    if (outcome_ == RouteTable::Outcome::kMatched && match_.route->client_streaming()) return StartUpload();
    // Beast checks a Content-Length against the limit only while it parses
    // the header: the limit is known now.
    if (auto length = header_->content_length(); length && *length > gateway_.options.max_body_bytes) {
      return TooLarge();
    }
    body_.emplace(std::move(*header_));
    body_->body_limit(gateway_.options.max_body_bytes);  // a chunked body
    ContinueThen(body_->get(), [](Self& s) { s.ReadBody(); });
  }

  // Answers "Expect: 100-continue" (curl and PHP send it before a body of
  // more than 1 KiB) before the body is read, then runs `next`.
  template <class Request, class Next>
  void ContinueThen(const Request& req, Next next) {
    auto it = req.find(bhttp::field::expect);
    if (it == req.end() || !beast::iequals(it->value(), "100-continue") || version_ < 11) return next(*this);
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, version_);
    ArmIo();
    bhttp::async_write(stream_, *res, [self = this->shared_from_this(), res, next](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      next(*self);
    });
  }

  // The body, a part at a time: each part has the I/O timeout (a large
  // body on a slow line is not cut at 30 s).
  void ReadBody() {
    if (body_->is_done()) return Dispatch();
    ArmIo();
    read_pending_ = true;
    bhttp::async_read_some(stream_, buffer_, *body_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->read_pending_ = false;
      if (ec == bhttp::error::body_limit) return self->TooLarge();
      if (ec) return self->Close();
      self->ReadBody();
    });
  }

  // The body is not read: the connection closes after the answer.
  void TooLarge() {
    Reply(413,
          StatusJson(8, absl::StrCat("request body larger than ", gateway_.options.max_body_bytes,
                                     " bytes (the message limit, --max_message_mb): split the batch")),
          false);
  }

  void Dispatch() {
    if (path_ == "/healthz" && method_ == "GET") return Reply(200, R"({"status":"SERVING"})", keep_alive_);
    if (path_ == "/readyz" && method_ == "GET") return Ready();
    if (path_ == "/metrics" && method_ == "GET") {
      return Reply(200, telemetry::Registry::Global().Exposition(), keep_alive_, kPrometheusType);
    }
    if (path_ == "/openapi.json" && method_ == "GET" && gateway_.options.serve_api) {
      return Reply(200, gateway_.options.openapi_json, keep_alive_);
    }
    if (gateway_.options.serve_api && outcome_ == RouteTable::Outcome::kNoPath) {
      if (method_ == "GET" && (path_ == "/" || path_ == "/dashboard")) return Redirect("/dashboard/");
      if (method_ == "POST" && path_ == "/dashboard/export.xlsx") return Export();
      if (method_ == "GET" && absl::StartsWith(path_, "/dashboard/")) return ServeFile(path_.substr(11));
    }
    if (outcome_ == RouteTable::Outcome::kNoPath) {
      return Reply(404, StatusJson(5, absl::StrCat("no such resource: ", method_, " ", path_.substr(0, 256),
                                                   gateway_.options.serve_api ? " (the API's routes: GET /openapi.json)"
                                                                              : " (this port serves /metrics)")),
                   keep_alive_);
    }
    if (outcome_ == RouteTable::Outcome::kWrongMethod) {
      return Reply(405, StatusJson(3, absl::StrCat(method_, " is not served on ", path_.substr(0, 256),
                                                   "; allowed: ", allowed_)),
                   keep_alive_);
    }
    const Route& route = *match_.route;
    std::unique_ptr<Message> request = NewMessage(route.method->input_type());
    const std::string& body = body_->get().body();
    if (absl::Status s = BuildRequest(match_, query_, body, request.get()); !s.ok()) {
      return Reply(400, StatusJson(3, s.message()), keep_alive_);
    }
    if (route.server_streaming()) return StartWatch(*request);
    auto call = std::make_shared<Unary>();
    if (absl::Status s = PrepareContext(body_->get(), peer_, request_id_, &call->ctx); !s.ok()) {
      return Reply(400, StatusJson(3, s.message()), keep_alive_);
    }
    call->request = ToByteBuffer(*request);
    gateway_.AddCall(&call->ctx, false);
    gateway_.stub->UnaryCall(&call->ctx, route.grpc_method, grpc::StubOptions(), &call->request, &call->response,
                             [self = this->shared_from_this(), call](grpc::Status status) mutable {
                               HttpGateway::Impl& g = self->gateway_;
                               g.Unregister(&call->ctx);
                               PostTo(std::move(self), [call = std::move(call), status = std::move(status)](Self& s) {
                                 s.FinishUnary(*call, status);
                               });
                               g.Done();
                             });
  }

  struct Unary {
    grpc::ClientContext ctx;
    grpc::ByteBuffer request, response;
  };

  // --- the dashboard (services/http/dashboard/) ---

  // Headers of every dashboard answer: its scripts come from this origin
  // only, and no other site may frame it.
  void DashboardHeaders() {
    headers_ = {{"Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
                {"X-Content-Type-Options", "nosniff"},
                {"X-Frame-Options", "DENY"},
                {"Referrer-Policy", "no-referrer"}};
  }

  void Redirect(const char* location) {
    DashboardHeaders();
    headers_.emplace_back("Location", location);
    Reply(302, "", keep_alive_, "text/plain; charset=utf-8");
  }

  void ServeFile(absl::string_view name) {
    const StaticFile* file = FindDashboardFile(name);
    if (file == nullptr) {
      return Reply(404, StatusJson(5, absl::StrCat("no such file: /dashboard/", name.substr(0, 256))), keep_alive_);
    }
    DashboardHeaders();
    // Revalidated on every load (a new server version serves new files at
    // once); unchanged files cost a 304.
    headers_.emplace_back("Cache-Control", "no-cache");
    headers_.emplace_back("ETag", file->etag);
    const auto& req = body_->get();
    if (auto it = req.find(bhttp::field::if_none_match);
        it != req.end() && absl::string_view(it->value().data(), it->value().size()) == file->etag) {
      return Reply(304, "", keep_alive_, file->content_type.data());
    }
    Reply(200, std::string(file->body), keep_alive_, file->content_type.data());
  }

  // POST /dashboard/export.xlsx: the caller's key is checked (and its rate
  // limit applied) by an in-process WhoAmI call first.
  void Export() {
    auto call = std::make_shared<Unary>();
    if (absl::Status s = PrepareContext(body_->get(), peer_, request_id_, &call->ctx); !s.ok()) {
      return Reply(400, StatusJson(3, s.message()), keep_alive_);
    }
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice empty("");
    call->request = grpc::ByteBuffer(&empty, 1);
    gateway_.AddCall(&call->ctx, false);
    gateway_.stub->UnaryCall(&call->ctx, "/pstrack.v1.AdminService/WhoAmI", grpc::StubOptions(), &call->request,
                             &call->response, [self = this->shared_from_this(), call](grpc::Status status) mutable {
                               HttpGateway::Impl& g = self->gateway_;
                               g.Unregister(&call->ctx);
                               PostTo(std::move(self), [call = std::move(call), status = std::move(status)](Self& s) {
                                 s.FinishExport(*call, status);
                               });
                               g.Done();
                             });
  }

  void FinishExport(Unary& call, const grpc::Status& status) {
    if (!status.ok()) return ReplyStatus(status, Trailer(call.ctx, "retry-after-ms"), keep_alive_);
    absl::StatusOr<Sheet> sheet = ParseExportRequest(body_->get().body());
    absl::StatusOr<std::string> book = sheet.ok() ? XlsxWorkbook(*sheet) : absl::StatusOr<std::string>(sheet.status());
    if (!book.ok()) {
      const int code = static_cast<int>(book.status().code());
      return Reply(HttpStatusOf(code), StatusJson(code, book.status().message()), keep_alive_);
    }
    DashboardHeaders();
    headers_.emplace_back("Content-Disposition", "attachment; filename=\"pstrack.xlsx\"");
    Reply(200, *std::move(book), keep_alive_, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  }

  void FinishUnary(Unary& call, const grpc::Status& status) {
    if (!status.ok()) return ReplyStatus(status, Trailer(call.ctx, "retry-after-ms"), keep_alive_);
    std::unique_ptr<Message> response = NewMessage(match_.route->method->output_type());
    if (!FromByteBuffer(call.response, response.get())) {
      return Reply(500, StatusJson(13, "the response did not parse"), keep_alive_);
    }
    Reply(200, ToJson(*response), keep_alive_);
  }

  // The status as JSON with its HTTP status. `retry_after_ms`: the call's
  // trailing "retry-after-ms" (rate limits). A call cancelled because the
  // server is stopping is UNAVAILABLE (retry elsewhere), not CANCELLED.
  void ReplyStatus(const grpc::Status& status, const std::string& retry_after_ms, bool keep_alive) {
    int code = static_cast<int>(status.error_code());
    std::string message = status.error_message();
    if (code == grpc::StatusCode::CANCELLED && gateway_.stopping.load()) {
      code = grpc::StatusCode::UNAVAILABLE;
      message = "the server is shutting down: retry (another replica answers)";
    }
    if (code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      int64_t ms;
      if (absl::SimpleAtoi(retry_after_ms, &ms) && ms >= 0) {
        retry_after_ = std::to_string(std::max<int64_t>(1, (ms + 999) / 1000));
      }
    }
    Reply(HttpStatusOf(code), StatusJson(code, message), keep_alive);
  }

  void Ready() {
    auto call = std::make_shared<Unary>();
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::Slice empty("");
    call->request = grpc::ByteBuffer(&empty, 1);
    gateway_.AddCall(&call->ctx, false);
    gateway_.stub->UnaryCall(
        &call->ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &call->request, &call->response,
        [self = this->shared_from_this(), call](grpc::Status status) mutable {
          HttpGateway::Impl& g = self->gateway_;
          g.Unregister(&call->ctx);
          PostTo(std::move(self), [call = std::move(call), status = std::move(status)](Self& s) {
            std::vector<grpc::Slice> slices;
            std::string bytes;
            if (status.ok() && call->response.Dump(&slices).ok()) {
              for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
            }
            // HealthCheckResponse{status: SERVING} is field 1 = 1.
            const bool serving = bytes == std::string("\x08\x01", 2);
            s.Reply(serving ? 200 : 503, serving ? R"({"status":"SERVING"})" : R"({"status":"NOT_SERVING"})",
                    s.keep_alive_);
          });
          g.Done();
        });
  }

  // --- Server-Sent Events (WatchIndicators) ---

  class Watch : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Watch(std::shared_ptr<Self> session) : session_(std::move(session)) {}
    grpc::ClientContext ctx;
    grpc::ByteBuffer request, incoming;

    void Start(const std::string& method) {
      session_->gateway_.AddCall(&ctx, true);
      session_->gateway_.stub->PrepareBidiStreamingCall(&ctx, method, grpc::StubOptions(), this);
      StartWriteLast(&request, grpc::WriteOptions());
      StartRead(&incoming);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (!ok) return;
      PostTo(session_, [bytes = std::move(incoming)](Self& s) { s.OnWatchMessage(bytes); });
      incoming = grpc::ByteBuffer();
      StartRead(&incoming);
    }
    // The reactor is freed with the handler on the session's strand (which
    // alone touches it), or with the io_context if that stops first.
    void OnDone(const grpc::Status& status) override {
      HttpGateway::Impl& g = session_->gateway_;
      g.Unregister(&ctx);
      std::string retry = Trailer(ctx, "retry-after-ms");
      std::shared_ptr<Watch> owned(this);
      PostTo(std::move(session_), [status, owned = std::move(owned), retry = std::move(retry)](Self& s) {
        s.OnWatchDone(status, retry);
      });
      g.Done();
    }

   private:
    std::shared_ptr<Self> session_;
  };

  void StartWatch(const Message& request) {
    if (version_ < 11) {
      return Reply(400, StatusJson(3, "Server-Sent Events need HTTP/1.1"), false);
    }
    auto* watch = new Watch(this->shared_from_this());
    if (absl::Status s = PrepareContext(body_->get(), peer_, request_id_, &watch->ctx); !s.ok()) {
      delete watch;
      return Reply(400, StatusJson(3, s.message()), keep_alive_);
    }
    watch->request = ToByteBuffer(request);
    watch_ = watch;
    watch_done_ = sse_started_ = hung_up_ = closing_sse_ = false;
    watch->Start(match_.route->grpc_method);
  }

  void OnWatchMessage(const grpc::ByteBuffer& bytes) {
    if (watch_done_) return;
    std::unique_ptr<Message> set = NewMessage(match_.route->method->output_type());
    if (!FromByteBuffer(bytes, set.get())) return;
    // Only the latest set waits: a slow reader gets the current figures,
    // not a backlog.
    pending_event_ = absl::StrCat("id: ", ++events_sent_, "\ndata: ", ToJson(*set), "\n\n");
    if (!sse_started_) return StartSse();
    PumpSse();
  }

  void StartSse() {
    sse_started_ = true;
    sse_response_ = std::make_unique<bhttp::response<bhttp::empty_body>>(bhttp::status::ok, version_);
    sse_response_->set(bhttp::field::server, "pstrack");
    sse_response_->set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
    sse_response_->set(bhttp::field::cache_control, "no-cache");
    sse_response_->set("X-Accel-Buffering", "no");  // nginx: pass events on as they come
    if (!request_id_.empty()) sse_response_->set("x-request-id", request_id_);
    sse_response_->keep_alive(false);
    sse_response_->chunked(true);
    sse_serializer_ = std::make_unique<bhttp::response_serializer<bhttp::empty_body>>(*sse_response_);
    writing_ = true;
    write_started_ = std::chrono::steady_clock::now();
    CountResponse(200);
    bhttp::async_write_header(stream_, *sse_serializer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->AbandonWatch();
      self->WatchForHangUp();
      self->PumpSse();
    });
    ArmSseTimer();
  }

  // The client sends nothing more; a read that ends means it hung up. (No
  // expiry on the stream: the SSE timer watches the writes.)
  void WatchForHangUp() {
    beast::get_lowest_layer(stream_).expires_never();
    read_pending_ = true;
    stream_.async_read_some(net::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->read_pending_ = false;
      if (ec) return self->AbandonWatch();
      self->WatchForHangUp();
    });
  }

  void AbandonWatch() {
    if (watch_ != nullptr && !watch_done_) watch_->ctx.TryCancel();
    if (!hung_up_) {
      hung_up_ = true;
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().close(ignored);
    }
  }

  // Every 15 s while the stream lives: a comment line when nothing else was
  // sent (proxies and clients see the connection alive), and the end of a
  // stream whose client has not taken a write for the I/O timeout.
  void ArmSseTimer() {
    sse_timer_.emplace(stream_.get_executor(), std::chrono::seconds(15));
    sse_timer_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->hung_up_ || self->closed_) return;
      if (self->writing_ && std::chrono::steady_clock::now() - self->write_started_ > self->IoTimeout()) {
        return self->AbandonWatch();
      }
      if (!self->writing_ && self->pending_event_.empty() && !self->watch_done_) {
        self->pending_event_ = ":\n\n";
        self->PumpSse();
      }
      self->ArmSseTimer();
    });
  }

  void PumpSse() {
    if (writing_ || hung_up_ || closing_sse_) return;
    write_started_ = std::chrono::steady_clock::now();
    if (pending_event_.empty()) {
      if (!watch_done_) return;
      closing_sse_ = true;
      writing_ = true;
      net::async_write(stream_, bhttp::make_chunk_last(),
                       [self = this->shared_from_this()](beast::error_code, size_t) {
                         self->writing_ = false;
                         self->Close();
                       });
      return;
    }
    writing_event_ = std::move(pending_event_);
    pending_event_.clear();
    writing_ = true;
    net::async_write(stream_, bhttp::make_chunk(net::buffer(writing_event_)),
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->AbandonWatch();
                       self->PumpSse();
                     });
  }

  void OnWatchDone(const grpc::Status& status, const std::string& retry_after_ms) {
    watch_done_ = true;
    watch_ = nullptr;
    if (!sse_started_) {
      // Refused before any figures (authentication, scope, limits): an
      // ordinary HTTP error.
      if (status.ok()) return Reply(200, "", false);
      return ReplyStatus(status, retry_after_ms, false);
    }
    if (hung_up_) return Close();
    if (!status.ok()) {
      int code = static_cast<int>(status.error_code());
      std::string message = status.error_message();
      if (code == grpc::StatusCode::CANCELLED && gateway_.stopping.load()) {
        code = grpc::StatusCode::UNAVAILABLE;
        message = "the server is shutting down: reconnect (to another replica)";
      }
      pending_event_ += absl::StrCat("event: error\ndata: ", StatusJson(code, message), "\n\n");
    }
    PumpSse();
  }

  // --- NDJSON upload (StreamEvents) ---

  class Upload : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Upload(std::shared_ptr<Self> session) : session_(std::move(session)) {}
    grpc::ClientContext ctx;
    grpc::ByteBuffer outgoing, response;
    bool got_response = false;

    // The session writes while it holds the call (AddHold): OnDone comes
    // only after ReleaseHold, so a write never follows the call's end.
    void Start(const std::string& method) {
      session_->gateway_.AddCall(&ctx, true);
      session_->gateway_.stub->PrepareBidiStreamingCall(&ctx, method, grpc::StubOptions(), this);
      AddHold();
      StartRead(&response);
      StartCall();
    }
    void ReleaseHold() {
      if (held_) {
        held_ = false;
        RemoveHold();
      }
    }
    // The response, or the call's end: the session stops sending (and
    // stops waiting for the client's next part).
    void OnReadDone(bool ok) override {
      got_response = ok;
      PostTo(session_, [](Self& s) { s.OnUploadCallEnded(); });
    }
    void OnWriteDone(bool ok) override {
      PostTo(session_, [ok](Self& s) { s.OnUploadWritten(ok); });
    }
    void OnDone(const grpc::Status& status) override {
      HttpGateway::Impl& g = session_->gateway_;
      g.Unregister(&ctx);
      std::string retry = Trailer(ctx, "retry-after-ms");
      std::shared_ptr<Upload> owned(this);
      PostTo(std::move(session_), [status, owned = std::move(owned), retry = std::move(retry)](Self& s) {
        s.OnUploadDone(status, *owned, retry);
      });
      g.Done();
    }

   private:
    std::shared_ptr<Self> session_;
    bool held_ = true;  // on the session's strand
  };

  void StartUpload() {
    upload_.emplace(std::move(*header_));
    upload_->body_limit(kNoLimit);  // an upload is read line by line
    upload_done_ = stopped_sending_ = client_gone_ = call_ended_ = body_finished_ = write_in_flight_ =
        writes_done_ = false;
    line_number_ = 0;
    partial_line_.clear();
    queued_.clear();
    upload_error_.reset();
    // The call starts once the client is told to send (a client that goes
    // away before holds no call).
    ContinueThen(upload_->get(), [](Self& s) {
      s.upload_call_ = new Upload(s.shared_from_this());
      if (absl::Status st = PrepareContext(s.upload_->get(), s.peer_, s.request_id_, &s.upload_call_->ctx); !st.ok()) {
        delete std::exchange(s.upload_call_, nullptr);
        return s.Reply(400, StatusJson(3, st.message()), false);
      }
      if (!s.chunk_) s.chunk_ = std::make_unique<std::array<char, kUploadChunk>>();
      s.upload_call_->Start(s.match_.route->grpc_method);
      s.ReadUploadChunk();
    });
  }

  void ReadUploadChunk() {
    if (stopped_sending_) return;
    if (upload_->is_done()) return FinishBody();
    upload_->get().body().data = chunk_->data();
    upload_->get().body().size = chunk_->size();
    ArmIo();
    read_pending_ = true;
    bhttp::async_read_some(stream_, buffer_, *upload_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->read_pending_ = false;
      if (ec == bhttp::error::need_buffer) ec = {};
      if (self->call_ended_) return;  // the call ended first: OnUploadDone answers
      if (ec) {
        // The client went away, or sent a malformed body: nothing more is
        // sent; what was committed stays (events are idempotent).
        self->client_gone_ = true;
        self->keep_alive_ = false;
        self->StopSending(/*cancel=*/true);
        return;
      }
      const size_t n = self->chunk_->size() - self->upload_->get().body().size;
      self->TakeLines(absl::string_view(self->chunk_->data(), n));
      if (self->stopped_sending_) return;
      if (self->upload_->is_done()) return self->FinishBody();
      self->PumpUpload();
    });
  }

  // Splits what arrived into lines; each complete line is an event.
  void TakeLines(absl::string_view data) {
    while (!data.empty() && !stopped_sending_) {
      const size_t nl = data.find('\n');
      if (nl == absl::string_view::npos) {
        partial_line_.append(data.data(), data.size());
        if (partial_line_.size() > gateway_.options.max_line_bytes) {
          FailUpload(absl::StrCat("line ", line_number_ + 1, ": longer than ", gateway_.options.max_line_bytes,
                                  " bytes (one JSON event per line)"));
        }
        return;
      }
      partial_line_.append(data.data(), nl);
      data.remove_prefix(nl + 1);
      TakeLine();
    }
  }

  void TakeLine() {
    ++line_number_;
    absl::string_view line = absl::StripAsciiWhitespace(partial_line_);
    if (!line.empty()) {
      std::unique_ptr<Message> event = NewMessage(match_.route->method->input_type());
      if (absl::Status s = ParseJson(line, absl::StrCat("line ", line_number_), event.get()); !s.ok()) {
        partial_line_.clear();
        return FailUpload(std::string(s.message()));
      }
      queued_.push_back(ToByteBuffer(*event));
    }
    partial_line_.clear();
  }

  void FailUpload(std::string why) {
    keep_alive_ = false;  // the rest of the body is not read
    upload_error_ = absl::StrCat(
        why, ". Nothing after it was sent; events before it may be stored (their ids make a resend of the "
             "whole file safe): fix the line and send the file again");
    StopSending(/*cancel=*/true);
  }

  // No more writes: the call may end (cancelled, or with its response).
  void StopSending(bool cancel) {
    stopped_sending_ = true;
    if (upload_call_ == nullptr || upload_done_) return;
    if (cancel) upload_call_->ctx.TryCancel();
    if (!write_in_flight_) upload_call_->ReleaseHold();
  }

  void PumpUpload() {
    if (write_in_flight_ || stopped_sending_ || upload_done_) return;
    if (!queued_.empty()) {
      upload_call_->outgoing = std::move(queued_.front());
      queued_.pop_front();
      write_in_flight_ = true;
      upload_call_->StartWrite(&upload_call_->outgoing);
      return;
    }
    if (body_finished_) {
      if (!writes_done_) {
        writes_done_ = true;
        upload_call_->StartWritesDone();
        upload_call_->ReleaseHold();
      }
      return;
    }
    ReadUploadChunk();
  }

  void OnUploadWritten(bool ok) {
    write_in_flight_ = false;
    if (!ok || stopped_sending_) {
      // The call ended (OnUploadDone answers), or the upload stopped.
      stopped_sending_ = true;
      if (upload_call_ != nullptr) upload_call_->ReleaseHold();
      return;
    }
    PumpUpload();
  }

  // The call answered or failed while the client may still be sending: a
  // pending read of the body is cancelled, the hold released, and
  // OnUploadDone answers (the connection then closes: the body is unread).
  void OnUploadCallEnded() {
    if (upload_done_ || body_finished_) return;
    call_ended_ = true;
    keep_alive_ = false;
    stopped_sending_ = true;
    if (read_pending_) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().cancel(ignored);
    }
    if (upload_call_ != nullptr && !write_in_flight_) upload_call_->ReleaseHold();
  }

  void FinishBody() {
    if (body_finished_) return;
    if (!partial_line_.empty()) TakeLine();
    if (stopped_sending_) return;
    body_finished_ = true;
    PumpUpload();
  }

  void OnUploadDone(const grpc::Status& status, const Upload& call, const std::string& retry_after_ms) {
    upload_done_ = true;
    upload_call_ = nullptr;
    if (client_gone_) return Close();
    if (upload_error_) return Reply(400, StatusJson(3, *upload_error_), false);
    const bool reusable = keep_alive_ && body_finished_ && !read_pending_;
    if (!status.ok()) return ReplyStatus(status, retry_after_ms, reusable);
    std::unique_ptr<Message> response = NewMessage(match_.route->method->output_type());
    if (!call.got_response || !FromByteBuffer(call.response, response.get())) {
      return Reply(500, StatusJson(13, "the stream ended without its response"), false);
    }
    Reply(200, ToJson(*response), reusable);
  }

  // --- responses ---

  static constexpr char kJsonType[] = "application/json; charset=utf-8";
  static constexpr char kPrometheusType[] = "text/plain; version=0.0.4; charset=utf-8";

  void CountResponse(int status) { gateway_.responses->With({std::to_string(status)}).Add(); }

  void Reply(int status, std::string body, bool keep_alive, const char* content_type = kJsonType) {
    if (closed_) return;
    CountResponse(status);
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status),
                                                                     version_ ? version_ : 11);
    res->set(bhttp::field::server, "pstrack");
    res->set(bhttp::field::content_type, content_type);
    if (!request_id_.empty()) res->set("x-request-id", request_id_);
    if (!retry_after_.empty()) res->set(bhttp::field::retry_after, retry_after_);
    if (status == 401) res->set(bhttp::field::www_authenticate, "Bearer realm=\"pstrack\"");
    if (status == 405) res->set(bhttp::field::allow, allowed_);
    for (const auto& [name, value] : headers_) res->set(name, value);
    headers_.clear();
    retry_after_.clear();
    res->keep_alive(keep_alive && !gateway_.stopping.load() && !read_pending_);
    res->body() = std::move(body);
    res->prepare_payload();
    ArmIo();
    bhttp::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
      self->EndAnswer();
      if (ec || !res->keep_alive()) return self->Close();
      self->ReadHeader();
    });
  }

  // Ends the connection: no more to send; what the client still sends is
  // read and dropped for up to 5 s (closing with unread data would reset
  // the connection, and the client could lose the answer), then it closes.
  void Close() {
    EndAnswer();
    if (closed_) return;
    closed_ = true;
    sse_timer_.reset();
    close_timer_.emplace(stream_.get_executor(), std::chrono::seconds(5));
    close_timer_->async_wait([self = this->shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().close(ignored);
    });
    beast::get_lowest_layer(stream_).expires_never();
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      Drain();
    } else {
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
        self->close_timer_.reset();
      });
    }
  }

  void Drain() {
    if (read_pending_) return;  // that read ends when the client closes
    read_pending_ = true;
    stream_.async_read_some(net::buffer(scratch_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->read_pending_ = false;
      if (ec) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
        self->close_timer_.reset();
        return;
      }
      self->Drain();
    });
  }

  HttpGateway::Impl& gateway_;
  Stream stream_;
  const std::string peer_;
  beast::flat_buffer buffer_;
  bool over_limit_ = false;
  bool answering_ = false;
  bool read_pending_ = false;
  bool closed_ = false;
  int requests_ = 0;
  std::array<char, 512> scratch_{};
  std::optional<net::steady_timer> close_timer_;

  // The request being served.
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> upload_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  std::string method_, path_, query_, request_id_, allowed_, retry_after_;
  // Further headers of the next answer (cleared by Reply).
  std::vector<std::pair<std::string, std::string>> headers_;
  RouteTable::Outcome outcome_ = RouteTable::Outcome::kNoPath;
  RouteMatch match_;

  // A watch in progress.
  Watch* watch_ = nullptr;
  bool watch_done_ = false, sse_started_ = false, writing_ = false, hung_up_ = false, closing_sse_ = false;
  int64_t events_sent_ = 0;
  std::string pending_event_, writing_event_;
  std::unique_ptr<bhttp::response<bhttp::empty_body>> sse_response_;
  std::unique_ptr<bhttp::response_serializer<bhttp::empty_body>> sse_serializer_;
  std::optional<net::steady_timer> sse_timer_;
  std::chrono::steady_clock::time_point write_started_;

  // An upload in progress.
  Upload* upload_call_ = nullptr;
  bool upload_done_ = false, stopped_sending_ = false, client_gone_ = false, call_ended_ = false,
       body_finished_ = false, write_in_flight_ = false, writes_done_ = false;
  int64_t line_number_ = 0;
  std::string partial_line_;
  std::deque<grpc::ByteBuffer> queued_;
  std::optional<std::string> upload_error_;
  std::unique_ptr<std::array<char, kUploadChunk>> chunk_;
};

std::string PeerOf(const tcp::socket& socket) {
  beast::error_code ec;
  const tcp::endpoint e = socket.remote_endpoint(ec);
  if (ec) return "http:unknown";
  return e.address().is_v6() ? absl::StrCat("http:ipv6:[", e.address().to_string(), "]:", e.port())
                             : absl::StrCat("http:ipv4:", e.address().to_string(), ":", e.port());
}

}  // namespace

void HttpGateway::Impl::Accept() {
  acceptor->async_accept(net::make_strand(*io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || stopping.load()) return;
      // Out of descriptors and the like: try again shortly, not in a spin.
      LogWarning("HTTP accept failed: ", ec.message());
      auto timer = std::make_shared<net::steady_timer>(acceptor->get_executor(), std::chrono::milliseconds(100));
      timer->async_wait([this, timer](beast::error_code) {
        if (!stopping.load()) Accept();
      });
      return;
    }
    const bool over_limit = connections.fetch_add(1) >= options.max_connections;
    std::string peer = PeerOf(socket);
    if (tls) {
      using TlsStream = beast::ssl_stream<beast::tcp_stream>;
      std::make_shared<Session<TlsStream>>(*this, TlsStream(beast::tcp_stream(std::move(socket)), *tls),
                                           std::move(peer))
          ->Run(over_limit);
    } else {
      std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)), std::move(peer))
          ->Run(over_limit);
    }
    Accept();
  });
}

HttpGateway::HttpGateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpGateway::~HttpGateway() { Shutdown(absl::ZeroDuration()); }

int HttpGateway::port() const { return impl_->port; }
int HttpGateway::open_connections() const { return impl_->connections.load(std::memory_order_relaxed); }

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(const GatewayOptions& options,
                                                                std::shared_ptr<grpc::Channel> channel) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->io = std::make_unique<net::io_context>(std::max(1, options.threads));
  absl::StatusOr<RouteTable> routes = RouteTable::ForApi();
  if (!routes.ok()) return routes.status();
  impl->routes = *std::move(routes);
  impl->channel = channel;
  impl->stub = std::make_unique<grpc::GenericStub>(channel);

  if (!options.tls.cert_file.empty()) {
    try {
      impl->tls.emplace(ssl::context::tls_server);
      impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      impl->tls->use_certificate_chain_file(options.tls.cert_file);
      impl->tls->use_private_key_file(options.tls.key_file, ssl::context::pem);
      if (!options.tls.client_ca_file.empty()) {
        impl->tls->load_verify_file(options.tls.client_ca_file);
        impl->tls->set_verify_mode(ssl::verify_peer |
                                   (options.tls.require_client_cert ? ssl::verify_fail_if_no_peer_cert : 0));
      }
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("HTTP TLS: ", e.what()));
    }
  }

  const size_t colon = options.listen_address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--http_listen: \"", options.listen_address, "\" is not host:port"));
  }
  const std::vector<std::string> host_port = {options.listen_address.substr(0, colon),
                                              options.listen_address.substr(colon + 1)};
  std::string host = host_port[0];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  int port;
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec || !absl::SimpleAtoi(host_port[1], &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen: \"", options.listen_address, "\" is not an IP address and port"));
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl->acceptor.emplace(net::make_strand(*impl->io));
  impl->acceptor->open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor->bind(endpoint, ec);
  if (!ec) impl->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options.listen_address, ": ",
                                               ec.message()));
  }
  impl->port = impl->acceptor->local_endpoint().port();
  impl->work.emplace(net::make_work_guard(*impl->io));
  impl->Accept();
  Impl* raw = impl.get();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    impl->threads.emplace_back([raw] {
      for (;;) {
        try {
          raw->io->run();
          return;
        } catch (const std::exception& e) {
          LogError("HTTP: ", e.what());
        }
      }
    });
  }
  return std::unique_ptr<HttpGateway>(new HttpGateway(std::move(impl)));
}

void HttpGateway::Shutdown(absl::Duration grace) {
  if (impl_->stopping.exchange(true)) return;
  net::post(impl_->acceptor->get_executor(), [this] {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  });
  auto wait_for = [this](absl::Duration limit) {
    absl::MutexLock lock(&impl_->mu);
    return impl_->mu.AwaitWithTimeout(absl::Condition(impl_.get(), &Impl::NoLiveCalls), limit);
  };
  {
    // Streams end now (as the gRPC server's shutdown would end them).
    absl::MutexLock lock(&impl_->mu);
    for (grpc::ClientContext* ctx : impl_->streams) ctx->TryCancel();
  }
  if (!wait_for(grace)) {
    absl::MutexLock lock(&impl_->mu);
    for (grpc::ClientContext* ctx : impl_->calls) ctx->TryCancel();
  }
  // Cancelled calls end promptly; their last posts reach a running io.
  (void)wait_for(absl::Seconds(10));
  // Streams write their last words (an SSE error event, an upload's
  // answer) before `io` stops.
  const absl::Time flush_until = absl::Now() + absl::Seconds(2);
  while (impl_->answering.load() > 0 && absl::Now() < flush_until) absl::SleepFor(absl::Milliseconds(5));
  impl_->work.reset();
  impl_->io->stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  // A handler that ran as `io` stopped may have started a call: it is
  // cancelled and ends before `io` goes.
  {
    absl::MutexLock lock(&impl_->mu);
    for (grpc::ClientContext* ctx : impl_->calls) ctx->TryCancel();
  }
  (void)wait_for(absl::Seconds(10));
}

}  // namespace pstrack::http
