#include "services/common/spreadsheet.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "services/common/text.h"
#include "xlsxwriter.h"

namespace pstrack {
namespace {

constexpr size_t kMaxRows = 1048575;  // and the header
constexpr size_t kMaxColumns = 16384;
constexpr size_t kMaxCellChars = 32767;

std::string SheetName(absl::string_view name) {
  std::string out;
  for (char c : name) out.push_back(absl::string_view("[]:*?/\\").find(c) == absl::string_view::npos ? c : '_');
  if (out.empty()) out = "pstrack";
  // 31 characters (code points), cut at a character boundary.
  std::string cut;
  size_t chars = 0;
  for (size_t i = 0; i < out.size() && chars < 31;) {
    size_t n = 1;
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c >= 0xF0) n = 4; else if (c >= 0xE0) n = 3; else if (c >= 0xC0) n = 2;
    cut.append(out, i, n);
    i += n;
    ++chars;
  }
  return cut;
}

// Removes the temporary file however the function returns.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) unlink(path.c_str());
  }
};

}  // namespace

bool ParseSheetColumnType(absl::string_view name, SheetColumn::Type* type) {
  if (name == "text") *type = SheetColumn::Type::kText;
  else if (name == "number") *type = SheetColumn::Type::kNumber;
  else if (name == "integer") *type = SheetColumn::Type::kInteger;
  else if (name == "percent") *type = SheetColumn::Type::kPercent;
  else return false;
  return true;
}

absl::StatusOr<std::string> XlsxWorkbook(const Sheet& sheet) {
  if (sheet.columns.empty()) return absl::InvalidArgumentError("columns: at least one column");
  if (sheet.columns.size() > kMaxColumns) {
    return absl::ResourceExhaustedError(absl::StrCat("columns: at most ", kMaxColumns, " (Excel's limit)"));
  }
  if (sheet.rows.size() > kMaxRows) {
    return absl::ResourceExhaustedError(absl::StrCat("rows: at most ", kMaxRows, " (Excel's limit)"));
  }
  auto check_text = [](const std::string& text, const std::string& where) -> absl::Status {
    if (!IsCleanUtf8(text)) return absl::InvalidArgumentError(absl::StrCat(where, ": not UTF-8 text"));
    if (Utf8Length(text) > kMaxCellChars) {
      return absl::ResourceExhaustedError(absl::StrCat(where, ": more than ", kMaxCellChars, " characters"));
    }
    return absl::OkStatus();
  };
  for (size_t c = 0; c < sheet.columns.size(); ++c) {
    if (absl::Status s = check_text(sheet.columns[c].title, absl::StrCat("columns[", c, "].title")); !s.ok()) return s;
  }
  for (size_t r = 0; r < sheet.rows.size(); ++r) {
    if (sheet.rows[r].size() > sheet.columns.size()) {
      return absl::InvalidArgumentError(absl::StrCat("rows[", r, "]: ", sheet.rows[r].size(), " cells for ",
                                                     sheet.columns.size(), " columns"));
    }
    for (size_t c = 0; c < sheet.rows[r].size(); ++c) {
      if (const auto* text = std::get_if<std::string>(&sheet.rows[r][c])) {
        if (absl::Status s = check_text(*text, absl::StrCat("rows[", r, "][", c, "]")); !s.ok()) return s;
      }
    }
  }

  const char* dir = std::getenv("TMPDIR");
  TempFile file{absl::StrCat(dir != nullptr && *dir ? dir : "/tmp", "/pstrack-xlsx-XXXXXX")};
  const int fd = mkstemp(file.path.data());
  if (fd < 0) {
    file.path.clear();
    return absl::InternalError("cannot make a temporary file for the workbook");
  }
  close(fd);

  lxw_workbook_options options = {};
  options.constant_memory = LXW_FALSE;
  options.tmpdir = nullptr;
  lxw_workbook* book = workbook_new_opt(file.path.c_str(), &options);
  if (book == nullptr) return absl::InternalError("libxlsxwriter could not start a workbook");
  const std::string name = SheetName(sheet.name);
  lxw_worksheet* ws = workbook_add_worksheet(book, name.c_str());
  lxw_format* header = workbook_add_format(book);
  format_set_bold(header);
  format_set_bottom(header, LXW_BORDER_THIN);
  lxw_format* percent = workbook_add_format(book);
  format_set_num_format(percent, "0.0%");
  lxw_format* integer = workbook_add_format(book);
  format_set_num_format(integer, "#,##0");
  lxw_format* number = workbook_add_format(book);
  format_set_num_format(number, "#,##0.##");

  std::vector<size_t> widths(sheet.columns.size(), 8);
  for (size_t c = 0; c < sheet.columns.size(); ++c) {
    worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), sheet.columns[c].title.c_str(), header);
    widths[c] = std::max(widths[c], Utf8Length(sheet.columns[c].title) + 2);
  }
  for (size_t r = 0; r < sheet.rows.size(); ++r) {
    const auto row = static_cast<lxw_row_t>(r + 1);
    for (size_t c = 0; c < sheet.rows[r].size(); ++c) {
      const auto col = static_cast<lxw_col_t>(c);
      const SheetCell& cell = sheet.rows[r][c];
      if (const double* v = std::get_if<double>(&cell)) {
        lxw_format* f = nullptr;
        switch (sheet.columns[c].type) {
          case SheetColumn::Type::kPercent: f = percent; break;
          case SheetColumn::Type::kInteger: f = integer; break;
          case SheetColumn::Type::kNumber: f = number; break;
          case SheetColumn::Type::kText: break;
        }
        worksheet_write_number(ws, row, col, *v, f);
        widths[c] = std::max<size_t>(widths[c], 12);
      } else if (const SheetRatio* ratio = std::get_if<SheetRatio>(&cell)) {
        worksheet_write_number(ws, row, col, ratio->value, percent);
        widths[c] = std::max<size_t>(widths[c], 12);
      } else if (const auto* text = std::get_if<std::string>(&cell)) {
        worksheet_write_string(ws, row, col, text->c_str(), nullptr);
        widths[c] = std::max(widths[c], std::min<size_t>(Utf8Length(*text) + 2, 60));
      }
    }
  }
  for (size_t c = 0; c < widths.size(); ++c) {
    worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c), static_cast<double>(widths[c]),
                         nullptr);
  }
  worksheet_freeze_panes(ws, 1, 0);
  if (!sheet.rows.empty()) {
    worksheet_autofilter(ws, 0, 0, static_cast<lxw_row_t>(sheet.rows.size()),
                         static_cast<lxw_col_t>(sheet.columns.size() - 1));
  }
  if (lxw_error error = workbook_close(book); error != LXW_NO_ERROR) {
    return absl::InternalError(absl::StrCat("libxlsxwriter: ", lxw_strerror(error)));
  }
  std::ifstream in(file.path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return absl::InternalError("cannot read the workbook back");
  return bytes;
}

}  // namespace pstrack
