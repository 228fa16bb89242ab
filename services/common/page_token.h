// Opaque page tokens for keyset pagination: they carry the last key of a page
// and a fingerprint of the request's filters, so a token replayed with other
// filters is refused rather than silently skipping rows.
#ifndef PSTRACK_SERVICES_COMMON_PAGE_TOKEN_H_
#define PSTRACK_SERVICES_COMMON_PAGE_TOKEN_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace pstrack {

inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// Stable (across processes) fingerprint of a canonical filter string.
std::string FilterFingerprint(absl::string_view canonical_filters);

std::string EncodePageToken(absl::string_view fingerprint, absl::string_view last_key);
// Returns the last key, or INVALID_ARGUMENT naming page_token.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view fingerprint);

// 0 -> default; 1..kMaxPageSize kept; otherwise INVALID_ARGUMENT naming page_size.
absl::StatusOr<int> ResolvePageSize(int requested);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_PAGE_TOKEN_H_
