#include "services/common/csv.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"

namespace pstrack {

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text, char delimiter) {
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRecord> records;
  CsvRecord current;
  std::string field;
  bool in_quotes = false, field_started = false, record_has_content = false;
  int line = 1, quote_line = 0;
  current.line = 1;
  auto end_field = [&] {
    current.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    if (record_has_content || !current.fields.empty()) {
      end_field();
      records.push_back(std::move(current));
    }
    current = CsvRecord();
    field.clear();
    field_started = false;
    record_has_content = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
      record_has_content = true;
      quote_line = line;
    } else if (c == delimiter) {
      record_has_content = true;
      end_field();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      end_record();
      ++line;
      current.line = line;
    } else {
      field.push_back(c);
      field_started = true;
      record_has_content = true;
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", quote_line, ": quoted field is never closed"));
  }
  end_record();
  return records;
}

absl::StatusOr<CsvTable> CsvTable::Parse(absl::string_view text,
                                         const std::vector<std::string>& required_columns) {
  auto records = ParseCsv(text);
  if (!records.ok()) return records.status();
  if (records->empty()) return absl::InvalidArgumentError("line 1: the file is empty (a header line is required)");
  CsvTable table;
  table.header_ = (*records)[0].fields;
  for (size_t i = 0; i < table.header_.size(); ++i) {
    std::string name(absl::StripAsciiWhitespace(table.header_[i]));
    absl::AsciiStrToLower(&name);
    table.header_[i] = name;
    if (!table.index_.emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("line ", (*records)[0].line, ": column '", name, "' appears twice"));
    }
  }
  std::vector<std::string> missing;
  for (const auto& col : required_columns) {
    if (!table.index_.contains(col)) missing.push_back(col);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("line ", (*records)[0].line, ": header lacks column(s) ",
                                                   absl::StrJoin(missing, ", "), "; expected ",
                                                   absl::StrJoin(required_columns, ",")));
  }
  records->erase(records->begin());
  table.records_ = std::move(*records);
  return table;
}

absl::string_view CsvTable::Row::Get(absl::string_view column) const {
  auto it = table->index_.find(column);
  if (it == table->index_.end() || it->second >= fields->size()) return {};
  return absl::StripAsciiWhitespace((*fields)[it->second]);
}

std::vector<CsvTable::Row> CsvTable::Rows() const {
  std::vector<Row> rows;
  rows.reserve(records_.size());
  for (const auto& r : records_) rows.push_back(Row{r.line, this, &r.fields});
  return rows;
}

std::string CsvEscape(absl::string_view field) {
  if (field.find_first_of(",\"\n\r") == absl::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace pstrack
