// Plain-text tables for the CLI, aligned by display width (UTF-8 aware, so
// Vietnamese names line up), or the same rows as RFC 4180 CSV for --csv.
#ifndef PSTRACK_TOOLS_CLI_TABLE_H_
#define PSTRACK_TOOLS_CLI_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

#include "services/common/csv.h"
#include "services/common/text.h"

namespace pstrack {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)), max_width_(header_.size(), 0) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  const std::vector<std::string>& header() const { return header_; }
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }
  // Cells of column `col` wider than `width` are cut with an ellipsis.
  void SetMaxWidth(size_t col, size_t width) { max_width_[col] = width; }

  void Print(std::ostream& out) const {
    std::vector<size_t> width(header_.size(), 0);
    auto cell = [&](const std::vector<std::string>& row, size_t c) {
      std::string s = c < row.size() ? row[c] : "";
      if (max_width_[c] > 0 && Utf8Length(s) > max_width_[c]) s = Truncate(s, max_width_[c] - 1) + "…";
      return s;
    };
    for (size_t c = 0; c < header_.size(); ++c) {
      width[c] = Utf8Length(header_[c]);
      for (const auto& r : rows_) width[c] = std::max(width[c], Utf8Length(cell(r, c)));
    }
    auto line = [&](const std::vector<std::string>& row) {
      std::string text;
      for (size_t c = 0; c < header_.size(); ++c) {
        std::string s = cell(row, c);
        text += s;
        if (c + 1 < header_.size()) text += std::string(width[c] - Utf8Length(s) + 2, ' ');
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out << text << "\n";
    };
    line(header_);
    for (const auto& r : rows_) line(r);
  }

  // The header and every row as CSV records (CRLF-terminated, as RFC 4180
  // says); cells are never cut.
  void PrintCsv(std::ostream& out) const {
    auto record = [&](const std::vector<std::string>& row) {
      for (size_t c = 0; c < header_.size(); ++c) {
        if (c > 0) out << ',';
        out << CsvEscape(c < row.size() ? row[c] : "");
      }
      out << "\r\n";
    };
    record(header_);
    for (const auto& r : rows_) record(r);
  }

 private:
  static std::string Truncate(const std::string& s, size_t n) {
    size_t count = 0, i = 0;
    for (; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
        if (count == n) break;
        ++count;
      }
    }
    return s.substr(0, i);
  }

  std::vector<std::string> header_;
  std::vector<size_t> max_width_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace pstrack

#endif  // PSTRACK_TOOLS_CLI_TABLE_H_
