// Tests for the RFC 4180 CSV reader and the header-keyed CsvTable.
#include "services/common/csv.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace pstrack {
namespace {

using Fields = std::vector<std::string>;

TEST(ParseCsv, PlainFieldsAndLines) {
  auto records = ParseCsv("a,b,c\nd,e,f\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ((*records)[0].line, 1);
  EXPECT_EQ((*records)[1].fields, (Fields{"d", "e", "f"}));
  EXPECT_EQ((*records)[1].line, 2);
}

TEST(ParseCsv, LastLineWithoutNewline) {
  auto records = ParseCsv("a,b\nc,d");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].fields, (Fields{"c", "d"}));
}

TEST(ParseCsv, EmptyFieldsAreKept) {
  auto records = ParseCsv("a,,c,\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (Fields{"a", "", "c", ""}));
}

TEST(ParseCsv, QuotedFieldIsUnquoted) {
  auto records = ParseCsv("\"a\",\"b c\"\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (Fields{"a", "b c"}));
}

TEST(ParseCsv, EmptyQuotedField) {
  auto records = ParseCsv("\"\"\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (Fields{""}));
}

TEST(ParseCsv, DoubledQuoteIsOneQuote) {
  auto records = ParseCsv("\"say \"\"hi\"\"\",x\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (Fields{"say \"hi\"", "x"}));
}

TEST(ParseCsv, EmbeddedCommaInQuotes) {
  auto records = ParseCsv("1,\"Hà Nội, Việt Nam\",2\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (Fields{"1", "Hà Nội, Việt Nam", "2"}));
}

TEST(ParseCsv, EmbeddedNewlineInQuotes) {
  auto records = ParseCsv("a,\"line one\nline two\",b\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (Fields{"a", "line one\nline two", "b"}));
}

TEST(ParseCsv, LineNumbersCountNewlinesInsideQuotes) {
  // Record 2 spans lines 2-4; record 3 starts on line 5.
  auto records = ParseCsv("h1,h2\nx,\"one\ntwo\nthree\"\ny,z\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].line, 1);
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_EQ((*records)[1].fields[1], "one\ntwo\nthree");
  EXPECT_EQ((*records)[2].line, 5);
  EXPECT_EQ((*records)[2].fields, (Fields{"y", "z"}));
}

TEST(ParseCsv, CrLfLineEnds) {
  auto records = ParseCsv("a,b\r\nc,d\r\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ((*records)[1].fields, (Fields{"c", "d"}));
  EXPECT_EQ((*records)[1].line, 2);
}

TEST(ParseCsv, CrLfAfterQuotedField) {
  auto records = ParseCsv("\"a\",\"b\"\r\n\"c\",\"d\"\r\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ((*records)[1].fields, (Fields{"c", "d"}));
}

TEST(ParseCsv, Utf8BomIsSkipped) {
  auto records = ParseCsv("\xEF\xBB\xBF" "code,name\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].fields, (Fields{"code", "name"}));
}

TEST(ParseCsv, EmptyLinesAreSkippedButCounted) {
  auto records = ParseCsv("\na,b\n\n\r\nc,d\n\n");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].line, 2);
  EXPECT_EQ((*records)[1].line, 5);
  EXPECT_EQ((*records)[1].fields, (Fields{"c", "d"}));
}

TEST(ParseCsv, EmptyTextHasNoRecords) {
  auto records = ParseCsv("");
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_TRUE(records->empty());
}

TEST(ParseCsv, UnterminatedQuoteNamesTheLineItOpensOn) {
  auto records = ParseCsv("a,b\nc,d\ne,\"never closed\nmore\n");
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(records.status().message(), "line 3")) << records.status();
}

TEST(CsvTable, RowsAreReadByColumnName) {
  auto table = CsvTable::Parse("code,name\nP22,Quảng Ninh\n", {"code", "name"});
  ASSERT_TRUE(table.ok()) << table.status();
  auto rows = table->Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].line, 2);
  EXPECT_EQ(rows[0].Get("code"), "P22");
  EXPECT_EQ(rows[0].Get("name"), "Quảng Ninh");
}

TEST(CsvTable, HeaderIsTrimmedAndLowerCased) {
  auto table = CsvTable::Parse(" Code , NAME\nx,y\n", {"code", "name"});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->header(), (Fields{"code", "name"}));
  EXPECT_EQ(table->Rows()[0].Get("name"), "y");
}

TEST(CsvTable, ValuesAreTrimmed) {
  auto table = CsvTable::Parse("code\n  P22  \n", {"code"});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Rows()[0].Get("code"), "P22");
}

TEST(CsvTable, UnknownColumnReadsEmpty) {
  auto table = CsvTable::Parse("code\nP22\n", {"code"});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->Rows()[0].Get("nope"), "");
}

TEST(CsvTable, ShortRowReadsMissingFieldsAsEmpty) {
  auto table = CsvTable::Parse("a,b,c\n1\n", {"a", "b", "c"});
  ASSERT_TRUE(table.ok()) << table.status();
  auto rows = table->Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Get("a"), "1");
  EXPECT_EQ(rows[0].Get("b"), "");
  EXPECT_EQ(rows[0].Get("c"), "");
}

TEST(CsvTable, RowSizeIsTheRowsOwnFieldCount) {
  auto table = CsvTable::Parse("a,b\n1\n1,2\n1,2,3\n", {"a"});
  ASSERT_TRUE(table.ok()) << table.status();
  auto rows = table->Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].size(), 1u);
  EXPECT_EQ(rows[1].size(), 2u);
  EXPECT_EQ(rows[2].size(), 3u);
}

TEST(CsvTable, RowLinesFollowMultiLineFields) {
  auto table = CsvTable::Parse("a,b\n\"x\ny\",1\nz,2\n", {"a", "b"});
  ASSERT_TRUE(table.ok()) << table.status();
  auto rows = table->Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 2);
  EXPECT_EQ(rows[1].line, 4);
  EXPECT_EQ(rows[1].Get("a"), "z");
}

TEST(CsvTable, MissingColumnsAreNamed) {
  auto table = CsvTable::Parse("code,level\nP22,province\n", {"code", "name", "level", "parent_code"});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  absl::string_view msg = table.status().message();
  EXPECT_TRUE(absl::StrContains(msg, "line 1")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "name")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "parent_code")) << msg;
}

TEST(CsvTable, DuplicateColumnIsAnError) {
  auto table = CsvTable::Parse("code,name,Code\n", {"code"});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(table.status().message(), "'code'")) << table.status();
  EXPECT_TRUE(absl::StrContains(table.status().message(), "twice")) << table.status();
}

TEST(CsvTable, EmptyFileIsAnError) {
  auto table = CsvTable::Parse("\n\n", {"code"});
  ASSERT_FALSE(table.ok());
  EXPECT_TRUE(absl::StrContains(table.status().message(), "empty")) << table.status();
}

TEST(CsvTable, HeaderLineNumberAfterLeadingBlankLines) {
  auto table = CsvTable::Parse("\n\ncode\n", {"code", "name"});
  ASSERT_FALSE(table.ok());
  EXPECT_TRUE(absl::StrContains(table.status().message(), "line 3")) << table.status();
}

TEST(CsvTable, HeaderOnlyHasNoRows) {
  auto table = CsvTable::Parse("code,name\n", {"code"});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_TRUE(table->Rows().empty());
}

TEST(CsvEscape, PlainFieldUnchanged) {
  EXPECT_EQ(CsvEscape("Tỉnh Quảng Ninh"), "Tỉnh Quảng Ninh");
  EXPECT_EQ(CsvEscape(""), "");
}

TEST(CsvEscape, SpecialCharactersAreQuoted) {
  EXPECT_EQ(CsvEscape("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvEscape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvEscape("a\nb"), "\"a\nb\"");
  EXPECT_EQ(CsvEscape("a\rb"), "\"a\rb\"");
}

TEST(CsvEscape, RoundTripsThroughParseCsv) {
  const Fields fields = {"plain", "with, comma", "with \"quotes\"", "multi\nline", "", "\"", "crlf\r\nin",
                         "Bà Rịa - Vũng Tàu"};
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ",";
    line += CsvEscape(fields[i]);
  }
  line += "\r\n";
  auto records = ParseCsv(line + line);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].fields, fields);
  EXPECT_EQ((*records)[1].fields, fields);
  EXPECT_EQ((*records)[1].line, 4);  // the first record spans lines 1-3
}

}  // namespace
}  // namespace pstrack
