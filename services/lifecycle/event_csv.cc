#include "services/lifecycle/event_csv.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/catalog/procedure_csv.h"
#include "services/common/csv.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

absl::StatusOr<FilingEvent> ParseRow(const CsvTable::Row& row, size_t columns) {
  if (row.size() > columns) {
    return InvalidField("row", absl::StrCat("has ", row.size(), " fields but the header has ", columns));
  }
  FilingEvent e;
  e.event_id = std::string(row.Get("event_id"));
  e.dossier_code = std::string(row.Get("dossier_code"));
  e.agency_code = std::string(row.Get("agency_code"));
  e.procedure_code = std::string(row.Get("procedure_code"));
  PSTRACK_ASSIGN_OR_RETURN(e.occurred_at, ParseInstant(row.Get("occurred_at"), "occurred_at"));
  PSTRACK_ASSIGN_OR_RETURN(e.kind, ParseEventKind(row.Get("kind"), "kind"));
  if (!row.Get("channel").empty()) {
    PSTRACK_ASSIGN_OR_RETURN(e.channel, ParseChannel(row.Get("channel"), "channel"));
  }
  PSTRACK_ASSIGN_OR_RETURN(e.declared_appointment,
                           ParseOptionalDate(row.Get("declared_appointment_date"), "declared_appointment_date"));
  PSTRACK_ASSIGN_OR_RETURN(e.new_appointment, ParseOptionalDate(row.Get("new_appointment_date"), "new_appointment_date"));
  e.reason = std::string(row.Get("reason"));
  if (absl::string_view amount = row.Get("amount_vnd"); !amount.empty() && !absl::SimpleAtoi(amount, &e.amount_vnd)) {
    return InvalidField("amount_vnd", absl::StrCat("'", amount, "' is not a whole number"));
  }
  struct Flag {
    const char* column;
    bool* target;
  };
  for (const Flag& f : {Flag{"online", &e.paid_online}, Flag{"electronic_result", &e.electronic_result},
                        Flag{"processed_electronically", &e.processed_electronically},
                        Flag{"signed_electronically", &e.signed_electronically},
                        Flag{"returned_remotely", &e.returned_remotely}, Flag{"documents", &e.digitised_documents},
                        Flag{"result", &e.digitised_result}, Flag{"reused_data", &e.reused_data},
                        Flag{"population_db_used", &e.population_db_used},
                        Flag{"shared_for_reuse", &e.shared_for_reuse}, Flag{"complaint", &e.complaint}}) {
    PSTRACK_ASSIGN_OR_RETURN(*f.target, ParseCsvBool(row.Get(f.column), f.column));
  }
  if (!row.Get("rating").empty()) {
    PSTRACK_ASSIGN_OR_RETURN(e.rating, ParseRating(row.Get("rating"), "rating"));
  }
  return e;
}

}  // namespace

absl::StatusOr<absl::Time> ParseInstant(absl::string_view text, absl::string_view field) {
  if (text.empty()) return MissingField(field);
  absl::Time t;
  std::string err;
  const std::string s(text);
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return t;
  for (const char* format : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"}) {
    if (absl::ParseTime(format, s, VietnamTimeZone(), &t, &err)) return t;
  }
  return InvalidField(field, absl::StrCat("'", text,
                                          "' is not an instant: use RFC 3339 (2025-06-02T10:00:00+07:00) or "
                                          "Vietnam local time (2025-06-02 10:00)"));
}

absl::StatusOr<std::vector<EventCsvRow>> ParseEventCsv(absl::string_view text) {
  PSTRACK_ASSIGN_OR_RETURN(CsvTable table, CsvTable::Parse(text, {"event_id", "dossier_code", "agency_code",
                                                                  "procedure_code", "occurred_at", "kind"}));
  std::vector<EventCsvRow> out;
  for (const auto& row : table.Rows()) out.push_back({row.line, ParseRow(row, table.header().size())});
  return out;
}

}  // namespace pstrack
