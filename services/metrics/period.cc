#include "services/metrics/period.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/status.h"

namespace pstrack {

absl::StatusOr<Period> ParsePeriodLabel(absl::string_view label, absl::string_view field) {
  auto bad = [&] {
    return InvalidField(field, absl::StrCat("'", label, "' is not a period: use 2025, 2025-Q3, 2025-07 or 2025-07-15"));
  };
  int year = 0;
  if (label.size() < 4 || !absl::SimpleAtoi(label.substr(0, 4), &year)) return bad();
  if (label.size() == 4) return Period{Date(year, 1, 1), Date(year + 1, 1, 1)};
  if (label.size() == 7 && label[4] == '-' && label[5] == 'Q') {
    int q = label[6] - '0';
    if (q < 1 || q > 4) return bad();
    Date start(year, 3 * (q - 1) + 1, 1);
    return Period{start, Date(absl::CivilMonth(start) + 3)};
  }
  if (label.size() == 7 && label[4] == '-') {
    int month = 0;
    if (!absl::SimpleAtoi(label.substr(5, 2), &month) || month < 1 || month > 12) return bad();
    Date start(year, month, 1);
    return Period{start, Date(absl::CivilMonth(start) + 1)};
  }
  if (label.size() == 10) {
    auto d = ParseDate(label, field);
    if (!d.ok()) return bad();
    return Period{*d, *d + 1};
  }
  return bad();
}

absl::Status ValidatePeriod(const Period& p, absl::string_view field) {
  if (p.end <= p.start) {
    return InvalidField(absl::StrCat(field, ".end"), absl::StrCat(FormatDate(p.end), " must be after the start ",
                                                                  FormatDate(p.start)));
  }
  if (p.start < Date(2000, 1, 1) || p.end > Date(2100, 1, 1)) {
    return InvalidField(field, "must lie between 2000-01-01 and 2100-01-01");
  }
  if (p.end - p.start > 366 * 20) return InvalidField(field, "spans more than 20 years");
  return absl::OkStatus();
}

}  // namespace pstrack
