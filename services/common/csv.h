// RFC 4180 CSV reading for reference-data and import files: quoted fields,
// doubled quotes, embedded commas and newlines, CRLF, a UTF-8 BOM. Each record
// remembers the file line it starts on so errors can cite it.
#ifndef PSTRACK_SERVICES_COMMON_CSV_H_
#define PSTRACK_SERVICES_COMMON_CSV_H_

#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace pstrack {

struct CsvRecord {
  int line = 0;  // 1-based line of the file where the record starts
  std::vector<std::string> fields;
};

// Parses the whole text. Fails (naming the line) only on an unterminated
// quoted field; empty lines are skipped.
// `delimiter`: ',' (RFC 4180), or ';' (what Excel writes in locales whose
// decimal mark is a comma, Vietnamese among them).
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text, char delimiter = ',');

// A CSV file with a header line; rows are read by column name.
class CsvTable {
 public:
  // Fails if the header lacks one of `required_columns`, or repeats a column.
  static absl::StatusOr<CsvTable> Parse(absl::string_view text,
                                        const std::vector<std::string>& required_columns);

  struct Row {
    int line = 0;
    const CsvTable* table = nullptr;
    const std::vector<std::string>* fields = nullptr;
    // The field's value, or "" when the column is absent or the row is short.
    absl::string_view Get(absl::string_view column) const;
    // Number of fields in this row (may differ from the header's).
    size_t size() const { return fields->size(); }
  };

  std::vector<Row> Rows() const;
  const std::vector<std::string>& header() const { return header_; }

 private:
  std::vector<std::string> header_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<CsvRecord> records_;
};

std::string CsvEscape(absl::string_view field);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_CSV_H_
