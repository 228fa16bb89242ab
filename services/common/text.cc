#include "services/common/text.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace pstrack {
namespace {

struct Fold {
  uint32_t code_point;
  char base;
};

// Every precomposed Vietnamese letter, upper and lower case, sorted by code
// point, with the ASCII letter it folds to.
constexpr Fold kFolds[] = {
    {0x00C0, 'a'},
    {0x00C1, 'a'},
    {0x00C2, 'a'},
    {0x00C3, 'a'},
    {0x00C8, 'e'},
    {0x00C9, 'e'},
    {0x00CA, 'e'},
    {0x00CC, 'i'},
    {0x00CD, 'i'},
    {0x00D2, 'o'},
    {0x00D3, 'o'},
    {0x00D4, 'o'},
    {0x00D5, 'o'},
    {0x00D9, 'u'},
    {0x00DA, 'u'},
    {0x00DD, 'y'},
    {0x00E0, 'a'},
    {0x00E1, 'a'},
    {0x00E2, 'a'},
    {0x00E3, 'a'},
    {0x00E8, 'e'},
    {0x00E9, 'e'},
    {0x00EA, 'e'},
    {0x00EC, 'i'},
    {0x00ED, 'i'},
    {0x00F2, 'o'},
    {0x00F3, 'o'},
    {0x00F4, 'o'},
    {0x00F5, 'o'},
    {0x00F9, 'u'},
    {0x00FA, 'u'},
    {0x00FD, 'y'},
    {0x0102, 'a'},
    {0x0103, 'a'},
    {0x0110, 'd'},
    {0x0111, 'd'},
    {0x0128, 'i'},
    {0x0129, 'i'},
    {0x0168, 'u'},
    {0x0169, 'u'},
    {0x01A0, 'o'},
    {0x01A1, 'o'},
    {0x01AF, 'u'},
    {0x01B0, 'u'},
    {0x1EA0, 'a'},
    {0x1EA1, 'a'},
    {0x1EA2, 'a'},
    {0x1EA3, 'a'},
    {0x1EA4, 'a'},
    {0x1EA5, 'a'},
    {0x1EA6, 'a'},
    {0x1EA7, 'a'},
    {0x1EA8, 'a'},
    {0x1EA9, 'a'},
    {0x1EAA, 'a'},
    {0x1EAB, 'a'},
    {0x1EAC, 'a'},
    {0x1EAD, 'a'},
    {0x1EAE, 'a'},
    {0x1EAF, 'a'},
    {0x1EB0, 'a'},
    {0x1EB1, 'a'},
    {0x1EB2, 'a'},
    {0x1EB3, 'a'},
    {0x1EB4, 'a'},
    {0x1EB5, 'a'},
    {0x1EB6, 'a'},
    {0x1EB7, 'a'},
    {0x1EB8, 'e'},
    {0x1EB9, 'e'},
    {0x1EBA, 'e'},
    {0x1EBB, 'e'},
    {0x1EBC, 'e'},
    {0x1EBD, 'e'},
    {0x1EBE, 'e'},
    {0x1EBF, 'e'},
    {0x1EC0, 'e'},
    {0x1EC1, 'e'},
    {0x1EC2, 'e'},
    {0x1EC3, 'e'},
    {0x1EC4, 'e'},
    {0x1EC5, 'e'},
    {0x1EC6, 'e'},
    {0x1EC7, 'e'},
    {0x1EC8, 'i'},
    {0x1EC9, 'i'},
    {0x1ECA, 'i'},
    {0x1ECB, 'i'},
    {0x1ECC, 'o'},
    {0x1ECD, 'o'},
    {0x1ECE, 'o'},
    {0x1ECF, 'o'},
    {0x1ED0, 'o'},
    {0x1ED1, 'o'},
    {0x1ED2, 'o'},
    {0x1ED3, 'o'},
    {0x1ED4, 'o'},
    {0x1ED5, 'o'},
    {0x1ED6, 'o'},
    {0x1ED7, 'o'},
    {0x1ED8, 'o'},
    {0x1ED9, 'o'},
    {0x1EDA, 'o'},
    {0x1EDB, 'o'},
    {0x1EDC, 'o'},
    {0x1EDD, 'o'},
    {0x1EDE, 'o'},
    {0x1EDF, 'o'},
    {0x1EE0, 'o'},
    {0x1EE1, 'o'},
    {0x1EE2, 'o'},
    {0x1EE3, 'o'},
    {0x1EE4, 'u'},
    {0x1EE5, 'u'},
    {0x1EE6, 'u'},
    {0x1EE7, 'u'},
    {0x1EE8, 'u'},
    {0x1EE9, 'u'},
    {0x1EEA, 'u'},
    {0x1EEB, 'u'},
    {0x1EEC, 'u'},
    {0x1EED, 'u'},
    {0x1EEE, 'u'},
    {0x1EEF, 'u'},
    {0x1EF0, 'u'},
    {0x1EF1, 'u'},
    {0x1EF2, 'y'},
    {0x1EF3, 'y'},
    {0x1EF4, 'y'},
    {0x1EF5, 'y'},
    {0x1EF6, 'y'},
    {0x1EF7, 'y'},
    {0x1EF8, 'y'},
    {0x1EF9, 'y'}};

// Decodes one code point at text[i]; returns its length, 0 if malformed.
size_t DecodeUtf8(absl::string_view text, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(text[i + k]);
    if ((cc >> 6) != 0x2) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

}  // namespace

std::string FoldForSearch(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) {  // keep malformed bytes as they are
      out.push_back(text[i++]);
      continue;
    }
    if (cp < 0x80) {
      char c = static_cast<char>(cp);
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    } else {
      auto it = std::lower_bound(std::begin(kFolds), std::end(kFolds), cp,
                                 [](const Fold& f, uint32_t v) { return f.code_point < v; });
      if (it != std::end(kFolds) && it->code_point == cp) {
        out.push_back(it->base);
      } else {
        out.append(text.data() + i, len);
      }
    }
    i += len;
  }
  return out;
}

bool IsCleanUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(text, i, &cp);
    if (len == 0) return false;
    if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F)) return false;  // C0, DEL, C1
    i += len;
  }
  return true;
}

size_t Utf8Length(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Excerpt(absl::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (chars == max_chars) return absl::StrCat(text.substr(0, i), "…");
    ++chars;
  }
  return std::string(text);
}

std::string TruncateUtf8(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return absl::StrCat(text.substr(0, end), "…");
}

void AppendJsonString(absl::string_view message, std::string* out) {
  // JSON allows every UTF-8 character unescaped but '"', '\\' and control
  // characters.
  std::string& escaped = *out;
  escaped.push_back('"');
  for (size_t i = 0; i < message.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(message[i]);
    if (c >= 0x80) {
      // A whole UTF-8 sequence, or U+FFFD for a broken one (a message cut
      // inside a character).
      const size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
      bool whole = n > 0 && i + n <= message.size();
      for (size_t k = 1; whole && k < n; ++k) whole = (static_cast<unsigned char>(message[i + k]) & 0xC0) == 0x80;
      if (whole) {
        escaped.append(message.data() + i, n);
        i += n - 1;
      } else {
        // One U+FFFD for the broken sequence: its lead byte and the
        // continuation bytes that follow it.
        escaped += "\ufffd";
        for (size_t k = 1; k < n && i + 1 < message.size() &&
                           (static_cast<unsigned char>(message[i + 1]) & 0xC0) == 0x80;
             ++k) {
          ++i;
        }
      }
      continue;
    }
    switch (c) {
      case '"': escaped += "\\\""; break;
      case '\\': escaped += "\\\\"; break;
      case '\n': escaped += "\\n"; break;
      case '\r': escaped += "\\r"; break;
      case '\t': escaped += "\\t"; break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&escaped, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          escaped.push_back(static_cast<char>(c));
        }
    }
  }
  escaped.push_back('"');
}

}  // namespace pstrack
