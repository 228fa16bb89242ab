#include "services/common/page_token.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/status.h"

namespace pstrack {

std::string FilterFingerprint(absl::string_view canonical_filters) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a 64-bit offset basis
  for (unsigned char c : canonical_filters) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", h);
}

std::string EncodePageToken(absl::string_view fingerprint, absl::string_view last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat("1|", fingerprint, "|", last_key));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view fingerprint) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 3 || raw.substr(0, 2) != "1|") {
    return InvalidField("page_token", "is malformed; pass next_page_token from a previous response unchanged");
  }
  absl::string_view rest = absl::string_view(raw).substr(2);
  size_t bar = rest.find('|');
  if (bar == absl::string_view::npos) return InvalidField("page_token", "is malformed");
  if (rest.substr(0, bar) != fingerprint) {
    return InvalidField("page_token", "was issued for different filters; repeat the request's filters unchanged");
  }
  return std::string(rest.substr(bar + 1));
}

absl::StatusOr<int> ResolvePageSize(int requested) {
  if (requested == 0) return kDefaultPageSize;
  if (requested < 0 || requested > kMaxPageSize) {
    return InvalidField("page_size", absl::StrCat(requested, " is out of range 0..", kMaxPageSize));
  }
  return requested;
}

}  // namespace pstrack
