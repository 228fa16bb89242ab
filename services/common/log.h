// Minimal structured logging to stderr (Abseil 20220623 has no absl/log).
// Thread-safe: each line is written with a single call.
#ifndef PSTRACK_SERVICES_COMMON_LOG_H_
#define PSTRACK_SERVICES_COMMON_LOG_H_

#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"

namespace pstrack {

enum class LogLevel { kInfo, kWarning, kError };

void LogLine(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) { LogLine(LogLevel::kInfo, absl::StrCat(args...)); }
template <typename... Args>
void LogWarning(const Args&... args) { LogLine(LogLevel::kWarning, absl::StrCat(args...)); }
template <typename... Args>
void LogError(const Args&... args) { LogLine(LogLevel::kError, absl::StrCat(args...)); }

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_LOG_H_
