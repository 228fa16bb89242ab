// Text helpers for Vietnamese names: folding for accent- and case-insensitive
// search ("quang ninh" finds "Tỉnh Quảng Ninh"), and UTF-8 checks.
#ifndef PSTRACK_SERVICES_COMMON_TEXT_H_
#define PSTRACK_SERVICES_COMMON_TEXT_H_

#include <string>
#include "absl/strings/string_view.h"

namespace pstrack {

// Lower-cases ASCII and Vietnamese letters and strips their diacritics
// (đ -> d). Other characters are kept as they are.
std::string FoldForSearch(absl::string_view text);

// True if `text` is well-formed UTF-8 with no control characters other than
// tab.
bool IsCleanUtf8(absl::string_view text);

// Number of Unicode code points in well-formed UTF-8.
size_t Utf8Length(absl::string_view text);

// `text` when it has at most `max_chars` code points; otherwise its first
// `max_chars` code points and "…". For echoing a caller's value in an error
// message without echoing a megabyte; never cuts a UTF-8 sequence in two.
std::string Excerpt(absl::string_view text, size_t max_chars = 64);

// `text` cut to at most `max_bytes` bytes (plus "…" when cut) at a UTF-8
// boundary.
std::string TruncateUtf8(absl::string_view text, size_t max_bytes);

// `text` as a JSON string, quoted, appended to `out`; a broken UTF-8
// sequence (a message cut inside a character) becomes U+FFFD.
void AppendJsonString(absl::string_view text, std::string* out);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_TEXT_H_
