// Tests for the log line formats (text and --log_format=json) and request
// ids. JSON lines are read back with protobuf's JSON parser (an independent
// reader), as a log shipper would read them.
#include "services/common/log.h"

#include <set>
#include <string>

#include "absl/time/civil_time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace pstrack {
namespace {

using google::protobuf::Struct;

const absl::Time kWhen = absl::FromCivil(absl::CivilSecond(2026, 12, 5, 9, 30, 15), absl::UTCTimeZone()) +
                         absl::Milliseconds(42);

Struct Parse(const std::string& line) {
  Struct out;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;  // one line
  const auto status = google::protobuf::util::JsonStringToMessage(line, &out);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << line;
  return out;
}

std::string Text(const Struct& s, const std::string& field) {
  auto it = s.fields().find(field);
  return it == s.fields().end() ? "<absent>" : it->second.string_value();
}

TEST(LogLine, JsonLineHasTimeLevelAndMessage) {
  const Struct s = Parse(FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kWarning, "WAL at 300 MiB", nullptr, nullptr));
  EXPECT_EQ(Text(s, "time"), "2026-12-05T09:30:15.042Z");
  EXPECT_EQ(Text(s, "level"), "warning");
  EXPECT_EQ(Text(s, "message"), "WAL at 300 MiB");
  EXPECT_EQ(s.fields().count("method"), 0);
  EXPECT_EQ(s.fields().count("request_id"), 0);
}

TEST(LogLine, JsonEscapesWhatItMustAndKeepsVietnamese) {
  const std::string message = "Tỉnh Quảng Ninh: \"quoted\"\\ back\nnew line\ttab \x01 end";
  const Struct s = Parse(FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kError, message, nullptr, nullptr));
  EXPECT_EQ(Text(s, "message"), message);
  EXPECT_EQ(Text(s, "level"), "error");
}

TEST(LogLine, JsonRepairsABrokenUtf8Sequence) {
  // "Quảng" cut inside "ả" (3 bytes: E1 BA A3).
  const std::string cut = std::string("Qu\xE1\xBA", 4);
  const Struct s = Parse(FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kInfo, cut, nullptr, nullptr));
  EXPECT_EQ(Text(s, "message"), "Qu\xEF\xBF\xBD");  // U+FFFD
}

TEST(LogLine, ALineInACallNamesItsMethodKeyAndRequestId) {
  const LogContext context{"pstrack.v1.FilingService/RecordEvents", "req-1", "k_abc"};
  const Struct s = Parse(FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kInfo, "retrying", &context, nullptr));
  EXPECT_EQ(Text(s, "method"), "pstrack.v1.FilingService/RecordEvents");
  EXPECT_EQ(Text(s, "request_id"), "req-1");
  EXPECT_EQ(Text(s, "key_id"), "k_abc");
  EXPECT_EQ(s.fields().count("code"), 0);

  const std::string text = FormatLogLine(LogFormat::kText, kWhen, LogLevel::kInfo, "retrying", &context, nullptr);
  EXPECT_EQ(text, "2026-12-05T09:30:15.042Z INFO retrying [pstrack.v1.FilingService/RecordEvents key=k_abc request_id=req-1]");
}

TEST(LogLine, ACallsLineHasCodeDurationAndPeer) {
  const RequestRecord record{"pstrack.v1.AgencyService/GetAgency", "NOT_FOUND", absl::Microseconds(1234), "k_abc",
                             "0123abcd", "ipv4:127.0.0.1:5000", "code: no agency \"99999\""};
  const Struct s = Parse(FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kInfo, record.message, nullptr, &record));
  EXPECT_EQ(Text(s, "method"), "pstrack.v1.AgencyService/GetAgency");
  EXPECT_EQ(Text(s, "code"), "NOT_FOUND");
  EXPECT_DOUBLE_EQ(s.fields().at("duration_ms").number_value(), 1.234);
  EXPECT_EQ(Text(s, "key_id"), "k_abc");
  EXPECT_EQ(Text(s, "request_id"), "0123abcd");
  EXPECT_EQ(Text(s, "peer"), "ipv4:127.0.0.1:5000");
  EXPECT_EQ(Text(s, "message"), "code: no agency \"99999\"");

  const std::string text = FormatLogLine(LogFormat::kText, kWhen, LogLevel::kInfo, record.message, nullptr, &record);
  EXPECT_EQ(text, "2026-12-05T09:30:15.042Z INFO pstrack.v1.AgencyService/GetAgency NOT_FOUND 1.234 ms from "
                  "ipv4:127.0.0.1:5000 key=k_abc request_id=0123abcd: code: no agency \"99999\"");
}

TEST(LogLine, AnAnsweredCallWithoutKeySaysAnswered) {
  const RequestRecord record{"pstrack.v1.AdminService/WhoAmI", "OK", absl::Milliseconds(2), "", "r", "", ""};
  const Struct s = Parse(FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kInfo, "", nullptr, &record));
  EXPECT_EQ(Text(s, "message"), "answered");
  EXPECT_EQ(s.fields().count("key_id"), 0);
  EXPECT_EQ(s.fields().count("peer"), 0);
}

TEST(LogFormat, ParsesItsTwoNames) {
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("JSON ", &f));
  EXPECT_FALSE(ParseLogFormat("", &f));
}

TEST(RequestId, WhatACallerMaySend) {
  EXPECT_TRUE(IsValidRequestId("req-4711"));
  EXPECT_TRUE(IsValidRequestId("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"));
  EXPECT_TRUE(IsValidRequestId("trace:ab/cd+ef=@x_y.z"));
  EXPECT_TRUE(IsValidRequestId(std::string(128, 'a')));
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("two words"));
  EXPECT_FALSE(IsValidRequestId("quote\""));
  EXPECT_FALSE(IsValidRequestId("new\nline"));
  EXPECT_FALSE(IsValidRequestId("mã-hồ-sơ"));
}

TEST(RequestId, MadeIdsAreValidAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = NewRequestId();
    ASSERT_EQ(id.size(), 32u) << id;
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ASSERT_TRUE(IsValidRequestId(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace pstrack
