// Tests for search folding of Vietnamese text and the UTF-8 checks.
#include "services/common/text.h"

#include <string>

#include "gtest/gtest.h"

namespace pstrack {
namespace {

TEST(FoldForSearch, ProvinceName) {
  EXPECT_EQ(FoldForSearch("Tỉnh Quảng Ninh"), "tinh quang ninh");
}

TEST(FoldForSearch, DWithStrokeFoldsToD) {
  EXPECT_EQ(FoldForSearch("Đắk Lắk"), "dak lak");
  EXPECT_EQ(FoldForSearch("đ"), "d");
}

TEST(FoldForSearch, HornedLettersAndCircumflex) {
  EXPECT_EQ(FoldForSearch("Thừa Thiên Huế"), "thua thien hue");
  EXPECT_EQ(FoldForSearch("Thành phố Hồ Chí Minh"), "thanh pho ho chi minh");
  EXPECT_EQ(FoldForSearch("Bà Rịa - Vũng Tàu"), "ba ria - vung tau");
}

TEST(FoldForSearch, UpperCaseVietnameseLetters) {
  EXPECT_EQ(FoldForSearch("ĐẮK LẮK"), "dak lak");
  EXPECT_EQ(FoldForSearch("ƠƯĂÂÊÔ"), "ouaaeo");
  EXPECT_EQ(FoldForSearch("ỲỴỶỸÝ"), "yyyyy");
}

TEST(FoldForSearch, EveryVowelWithEveryTone) {
  // Each base vowel with the five tone marks, in lower case.
  EXPECT_EQ(FoldForSearch("àáảãạ ằắẳẵặ ầấẩẫậ"), "aaaaa aaaaa aaaaa");
  EXPECT_EQ(FoldForSearch("èéẻẽẹ ềếểễệ"), "eeeee eeeee");
  EXPECT_EQ(FoldForSearch("ìíỉĩị"), "iiiii");
  EXPECT_EQ(FoldForSearch("òóỏõọ ồốổỗộ ờớởỡợ"), "ooooo ooooo ooooo");
  EXPECT_EQ(FoldForSearch("ùúủũụ ừứửữự"), "uuuuu uuuuu");
  EXPECT_EQ(FoldForSearch("ỳýỷỹỵ"), "yyyyy");
}

TEST(FoldForSearch, AsciiUpperCaseIsLowered) {
  EXPECT_EQ(FoldForSearch("ABC xyz 123-_."), "abc xyz 123-_.");
}

TEST(FoldForSearch, EmptyStaysEmpty) { EXPECT_EQ(FoldForSearch(""), ""); }

TEST(FoldForSearch, NonVietnameseCharactersAreKept) {
  EXPECT_EQ(FoldForSearch("Straße"), "straße");
  EXPECT_EQ(FoldForSearch("Ö ö ç"), "Ö ö ç");
  EXPECT_EQ(FoldForSearch("北京 №5 €"), "北京 №5 €");
}

TEST(FoldForSearch, MalformedBytesAreKept) {
  const std::string bad = "a\xFF" "B";
  EXPECT_EQ(FoldForSearch(bad), "a\xFF" "b");
}

TEST(IsCleanUtf8, AcceptsAsciiAndVietnamese) {
  EXPECT_TRUE(IsCleanUtf8(""));
  EXPECT_TRUE(IsCleanUtf8("Sở Tư pháp tỉnh Quảng Ninh"));
  EXPECT_TRUE(IsCleanUtf8("北京 €"));
  EXPECT_TRUE(IsCleanUtf8("\xF0\x9F\x98\x80"));  // U+1F600, four bytes
}

TEST(IsCleanUtf8, AcceptsTab) { EXPECT_TRUE(IsCleanUtf8("a\tb")); }

TEST(IsCleanUtf8, RejectsControlCharacters) {
  EXPECT_FALSE(IsCleanUtf8("a\nb"));
  EXPECT_FALSE(IsCleanUtf8("a\rb"));
  EXPECT_FALSE(IsCleanUtf8("a\x01" "b"));
  EXPECT_FALSE(IsCleanUtf8("a\x7F" "b"));
  EXPECT_FALSE(IsCleanUtf8(std::string("a\0b", 3)));
}

// C1 controls (U+0080..U+009F, e.g. U+0085 NEXT LINE) are control characters too.
TEST(IsCleanUtf8, RejectsC1ControlCharacters) {
  EXPECT_FALSE(IsCleanUtf8("a\xC2\x85" "b"));  // U+0085 NEXT LINE
  EXPECT_FALSE(IsCleanUtf8("a\xC2\x9F" "b"));  // U+009F
}

TEST(IsCleanUtf8, RejectsStrayAndTruncatedBytes) {
  EXPECT_FALSE(IsCleanUtf8("\x80"));          // continuation byte alone
  EXPECT_FALSE(IsCleanUtf8("\xFF"));          // never valid
  EXPECT_FALSE(IsCleanUtf8("\xC3"));          // truncated two-byte sequence
  EXPECT_FALSE(IsCleanUtf8("\xE1\xBB"));      // truncated three-byte sequence
  EXPECT_FALSE(IsCleanUtf8("\xC3" "a"));      // lead byte followed by ASCII
  EXPECT_FALSE(IsCleanUtf8("\xF8\x88\x80\x80\x80"));  // five-byte form
}

TEST(IsCleanUtf8, RejectsOverlongEncodings) {
  EXPECT_FALSE(IsCleanUtf8("\xC0\x80"));          // U+0000 in two bytes
  EXPECT_FALSE(IsCleanUtf8("\xC1\xBF"));          // U+007F in two bytes
  EXPECT_FALSE(IsCleanUtf8("\xE0\x80\xAF"));      // '/' in three bytes
  EXPECT_FALSE(IsCleanUtf8("\xF0\x80\x80\xAF"));  // '/' in four bytes
}

TEST(IsCleanUtf8, RejectsSurrogatesAndBeyondUnicode) {
  EXPECT_FALSE(IsCleanUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsCleanUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_TRUE(IsCleanUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("Quảng"), 5u);
  EXPECT_EQ(Utf8Length("Đắk Lắk"), 7u);
  EXPECT_EQ(Utf8Length("北京"), 2u);
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80"), 1u);
}

}  // namespace
}  // namespace pstrack
