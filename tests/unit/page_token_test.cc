// Tests for opaque keyset page tokens and page-size resolution.
#include "services/common/page_token.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace pstrack {
namespace {

void ExpectPageTokenError(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), "page_token: ")) << status;
}

TEST(PageToken, RoundTrip) {
  const std::string fp = FilterFingerprint("parent=P22;level=department");
  auto key = DecodePageToken(EncodePageToken(fp, "P22.SXD"), fp);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "P22.SXD");
}

TEST(PageToken, RoundTripKeepsAnyKeyBytes) {
  const std::string fp = FilterFingerprint("");
  for (const std::string& last_key : {std::string(""), std::string("a|b|c"), std::string("Tỉnh Quảng Ninh"),
                                     std::string("1\0x", 3), std::string(300, 'k')}) {
    auto key = DecodePageToken(EncodePageToken(fp, last_key), fp);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(*key, last_key);
  }
}

TEST(PageToken, IsWebSafe) {
  const std::string token = EncodePageToken(FilterFingerprint("x"), "\xFB\xFF\xFE?>");
  EXPECT_EQ(token.find_first_of("+/= "), std::string::npos) << token;
}

TEST(PageToken, OtherFingerprintIsRejected) {
  const std::string token = EncodePageToken(FilterFingerprint("parent=P22"), "P22.SXD");
  auto key = DecodePageToken(token, FilterFingerprint("parent=P24"));
  ASSERT_FALSE(key.ok());
  ExpectPageTokenError(key.status());
  EXPECT_TRUE(absl::StrContains(key.status().message(), "filters")) << key.status();
}

TEST(PageToken, GarbageIsRejected) {
  const std::string fp = FilterFingerprint("");
  for (const std::string token : {"not a token!", "***", "%%%%", "AAAA"}) {
    auto key = DecodePageToken(token, fp);
    ASSERT_FALSE(key.ok()) << token;
    ExpectPageTokenError(key.status());
  }
}

TEST(PageToken, WrongVersionIsRejected) {
  const std::string fp = FilterFingerprint("");
  auto key = DecodePageToken(absl::WebSafeBase64Escape("2|" + fp + "|k"), fp);
  ASSERT_FALSE(key.ok());
  ExpectPageTokenError(key.status());
}

TEST(PageToken, MissingKeySeparatorIsRejected) {
  const std::string fp = FilterFingerprint("");
  auto key = DecodePageToken(absl::WebSafeBase64Escape("1|" + fp), fp);
  ASSERT_FALSE(key.ok());
  ExpectPageTokenError(key.status());
}

TEST(PageToken, EmptyTokenIsRejected) {
  auto key = DecodePageToken("", FilterFingerprint(""));
  ASSERT_FALSE(key.ok());
  ExpectPageTokenError(key.status());
}

TEST(PageToken, TamperedTokenIsRejected) {
  const std::string fp = FilterFingerprint("parent=P22");
  std::string token = EncodePageToken(fp, "P22.SXD");
  token[3] = token[3] == 'A' ? 'B' : 'A';  // inside the fingerprint
  auto key = DecodePageToken(token, fp);
  EXPECT_FALSE(key.ok());
}

TEST(ResolvePageSize, ZeroMeansDefault) {
  auto size = ResolvePageSize(0);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 100);
  EXPECT_EQ(*size, kDefaultPageSize);
}

TEST(ResolvePageSize, InRangeIsKept) {
  EXPECT_EQ(*ResolvePageSize(1), 1);
  EXPECT_EQ(*ResolvePageSize(250), 250);
  EXPECT_EQ(*ResolvePageSize(1000), 1000);
}

TEST(ResolvePageSize, AboveMaximumIsRejected) {
  auto size = ResolvePageSize(1001);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(size.status().message(), "page_size: ")) << size.status();
  EXPECT_TRUE(absl::StrContains(size.status().message(), "1001")) << size.status();
}

TEST(ResolvePageSize, NegativeIsRejected) {
  auto size = ResolvePageSize(-1);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(size.status().message(), "page_size: ")) << size.status();
}

TEST(FilterFingerprint, Stable) {
  EXPECT_EQ(FilterFingerprint("parent=P22"), FilterFingerprint("parent=P22"));
  EXPECT_EQ(FilterFingerprint(""), FilterFingerprint(std::string()));
}

// The fingerprint is 64-bit FNV-1a: check against its published test vectors.
TEST(FilterFingerprint, MatchesFnv1aReferenceValues) {
  EXPECT_EQ(FilterFingerprint(""), "cbf29ce484222325");
  EXPECT_EQ(FilterFingerprint("a"), "af63dc4c8601ec8c");
}

TEST(FilterFingerprint, SixteenHexDigits) {
  const std::string fp = FilterFingerprint("level=province");
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
}

TEST(FilterFingerprint, DistinctFiltersDiffer) {
  EXPECT_NE(FilterFingerprint("parent=P22"), FilterFingerprint("parent=P24"));
  EXPECT_NE(FilterFingerprint("a=1;b=2"), FilterFingerprint("a=12;b="));
  EXPECT_NE(FilterFingerprint(""), FilterFingerprint(" "));
}

}  // namespace
}  // namespace pstrack
