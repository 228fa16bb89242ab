#include "services/common/log.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "services/common/text.h"

namespace pstrack {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};
thread_local const LogContext* t_context = nullptr;

absl::string_view LevelName(LogLevel level, LogFormat format) {
  if (format == LogFormat::kJson) {
    return level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
  }
  return level == LogLevel::kInfo ? "INFO" : level == LogLevel::kWarning ? "WARN" : "ERROR";
}

void JsonField(std::string* out, absl::string_view name, absl::string_view value) {
  absl::StrAppend(out, ",\"", name, "\":");
  AppendJsonString(value, out);
}

void Write(const std::string& line) { std::fwrite(line.data(), 1, line.size(), stderr); }

}  // namespace

void SetLogFormat(LogFormat format) { g_format.store(format, std::memory_order_relaxed); }
LogFormat CurrentLogFormat() { return g_format.load(std::memory_order_relaxed); }

bool ParseLogFormat(absl::string_view name, LogFormat* format) {
  if (name == "text") {
    *format = LogFormat::kText;
  } else if (name == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

ScopedLogContext::ScopedLogContext(const LogContext* context) : previous_(t_context) { t_context = context; }
ScopedLogContext::~ScopedLogContext() { t_context = previous_; }

std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level, absl::string_view message,
                          const LogContext* context, const RequestRecord* request) {
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  absl::string_view method, request_id, key_id;
  if (request != nullptr) {
    method = request->method;
    request_id = request->request_id;
    key_id = request->key_id;
  } else if (context != nullptr) {
    method = context->method;
    request_id = context->request_id;
    key_id = context->key_id;
  }
  std::string line;
  if (format == LogFormat::kJson) {
    line = absl::StrCat("{\"time\":\"", when, "\",\"level\":\"", LevelName(level, format), "\"");
    // A call's line without a message: it was answered.
    JsonField(&line, "message", request != nullptr && message.empty() ? absl::string_view("answered") : message);
    if (!method.empty()) JsonField(&line, "method", method);
    if (request != nullptr) {
      JsonField(&line, "code", request->code);
      absl::StrAppend(&line, ",\"duration_ms\":", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(request->duration)));
      if (!request->peer.empty()) JsonField(&line, "peer", request->peer);
    }
    if (!key_id.empty()) JsonField(&line, "key_id", key_id);
    if (!request_id.empty()) JsonField(&line, "request_id", request_id);
    line += "}";
    return line;
  }
  // Text: "TIME LEVEL message [method key=K request_id=R]", and for a
  // call's line "TIME LEVEL method CODE 1.234 ms from PEER key=K
  // request_id=R: message".
  std::vector<std::string> tags;
  if (request == nullptr && !method.empty()) tags.emplace_back(method);
  if (!key_id.empty()) tags.push_back(absl::StrCat("key=", key_id));
  if (!request_id.empty()) tags.push_back(absl::StrCat("request_id=", request_id));
  line = absl::StrCat(when, " ", LevelName(level, format), " ");
  if (request != nullptr) {
    absl::StrAppend(&line, method, " ", request->code, " ",
                    absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(request->duration)), " ms");
    if (!request->peer.empty()) absl::StrAppend(&line, " from ", request->peer);
    if (!tags.empty()) absl::StrAppend(&line, " ", absl::StrJoin(tags, " "));
    if (!message.empty()) absl::StrAppend(&line, ": ", message);
  } else {
    line.append(message.data(), message.size());
    if (!tags.empty()) absl::StrAppend(&line, " [", absl::StrJoin(tags, " "), "]");
  }
  return line;
}

void LogLine(LogLevel level, absl::string_view message) {
  std::string line = FormatLogLine(CurrentLogFormat(), absl::Now(), level, message, t_context, nullptr);
  line += "\n";
  Write(line);
}

void LogRequest(LogLevel level, const RequestRecord& record) {
  std::string line = FormatLogLine(CurrentLogFormat(), absl::Now(), level, record.message, nullptr, &record);
  line += "\n";
  Write(line);
}

bool IsValidRequestId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && absl::string_view("-_.:/+=@").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string NewRequestId() {
  // A random prefix for the process, and a counter.
  static const uint64_t prefix = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }();
  static std::atomic<uint64_t> counter{0};
  return absl::StrCat(absl::Hex(prefix, absl::kZeroPad16),
                      absl::Hex(counter.fetch_add(1, std::memory_order_relaxed), absl::kZeroPad16));
}

}  // namespace pstrack
