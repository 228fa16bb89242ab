// Opaque page tokens for keyset pagination: they carry the last key of a page
// and a fingerprint of the request's filters, so a token replayed with other
// filters is refused rather than silently skipping rows.
#ifndef PSTRACK_SERVICES_COMMON_PAGE_TOKEN_H_
#define PSTRACK_SERVICES_COMMON_PAGE_TOKEN_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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

// Keyset pagination over rows read in key order: a page reads one row more
// than it returns, so it knows whether another follows, and only then
// hands out a token (the last key returned, with the filters'
// fingerprint).
class KeysetPager {
 public:
  // INVALID_ARGUMENT naming page_size (ResolvePageSize).
  static absl::StatusOr<KeysetPager> Make(int page_size, std::string fingerprint) {
    absl::StatusOr<int> size = ResolvePageSize(page_size);
    if (!size.ok()) return size.status();
    return KeysetPager(*size, std::move(fingerprint));
  }
  // The key the page starts after ("" for the first page); INVALID_ARGUMENT
  // naming page_token for a token of other filters or none of ours.
  absl::StatusOr<std::string> After(absl::string_view page_token) const {
    if (page_token.empty()) return std::string();
    return DecodePageToken(page_token, fingerprint_);
  }
  // How many rows to read.
  int fetch_limit() const { return page_size_ + 1; }
  // Drops the row read beyond the page, if any: then the next page's token
  // (after `key_of` the last row kept), else "".
  template <typename Row, typename KeyOf>
  std::string Trim(std::vector<Row>& rows, KeyOf key_of) const {
    if (static_cast<int>(rows.size()) <= page_size_) return "";
    rows.resize(page_size_);
    return EncodePageToken(fingerprint_, key_of(rows.back()));
  }

 private:
  KeysetPager(int page_size, std::string fingerprint) : page_size_(page_size), fingerprint_(std::move(fingerprint)) {}
  int page_size_;
  std::string fingerprint_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_PAGE_TOKEN_H_
