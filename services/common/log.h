// Logging to stderr (Abseil 20220623 has no absl/log), one line per record,
// as text (the default) or as JSON (--log_format=json: one object per line,
// for a log shipper). Thread-safe: each line is written with one call.
//
// A call's lines carry its request id: RpcGuard (services/api/rpc_guard.h)
// sets a ScopedLogContext on the thread that runs a handler, and every line
// logged there names the call's method, key id and request id; when the
// call ends it writes the request line (LogRequest).
#ifndef PSTRACK_SERVICES_COMMON_LOG_H_
#define PSTRACK_SERVICES_COMMON_LOG_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pstrack {

enum class LogLevel { kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// For the whole process, before its threads start (pstrack-server's
// --log_format).
void SetLogFormat(LogFormat format);
LogFormat CurrentLogFormat();
// "text" or "json"; false for anything else.
bool ParseLogFormat(absl::string_view name, LogFormat* format);

// What a call adds to every line logged on this thread while it runs.
struct LogContext {
  absl::string_view method;      // "pstrack.v1.Filings/RecordEvents"
  absl::string_view request_id;  // the caller's x-request-id, or one made for it
  absl::string_view key_id;      // the caller's key id ("" before authentication)
};

// Sets the thread's LogContext for its lifetime (and restores the one
// before). The strings must outlive it.
class ScopedLogContext {
 public:
  explicit ScopedLogContext(const LogContext* context);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  const LogContext* previous_;
};

void LogLine(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) { LogLine(LogLevel::kInfo, absl::StrCat(args...)); }
template <typename... Args>
void LogWarning(const Args&... args) { LogLine(LogLevel::kWarning, absl::StrCat(args...)); }
template <typename... Args>
void LogError(const Args&... args) { LogLine(LogLevel::kError, absl::StrCat(args...)); }

// The line of a finished call: its method, status code, duration, caller
// and request id, and a message (the status's message when it failed).
struct RequestRecord {
  absl::string_view method;
  absl::string_view code;  // "OK", "INVALID_ARGUMENT", ...
  absl::Duration duration;
  absl::string_view key_id;
  absl::string_view request_id;
  absl::string_view peer;
  absl::string_view message;
};
void LogRequest(LogLevel level, const RequestRecord& record);

// The line as it would be written (without its newline), for tests.
std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level, absl::string_view message,
                          const LogContext* context, const RequestRecord* request);

// Request ids. A caller's x-request-id is kept when it is 1 to 128
// characters of letters, digits and "-_.:/+=@"; otherwise (or when there is
// none) the call gets a new one: 32 hex digits, unique in this process and
// unlikely to repeat across processes.
bool IsValidRequestId(absl::string_view id);
std::string NewRequestId();

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_LOG_H_
