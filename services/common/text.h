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

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_TEXT_H_
