#include "services/security/api_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

constexpr absl::string_view kTokenPrefix = "pst_";
constexpr int kKeyIdBytes = 8;
constexpr int kSecretBytes = 32;
constexpr int kSaltBytes = 16;

std::string RandomBytes(int n) {
  std::string out(static_cast<size_t>(n), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), n) != 1) {
    // No entropy means no safe key: never fall back to a weak source.
    throw std::runtime_error("the system random generator failed");
  }
  return out;
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) || absl::ascii_isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

bool PrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCentre: return "centre";
    case Role::kAnalyst: return "analyst";
    case Role::kAdmin: return "admin";
    case Role::kUnspecified: break;
  }
  return "unspecified";
}

absl::StatusOr<Role> ParseRole(absl::string_view name, absl::string_view field) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "centre" || n == "center") return Role::kCentre;
  if (n == "analyst") return Role::kAnalyst;
  if (n == "admin") return Role::kAdmin;
  return InvalidField(field, absl::StrCat("unknown role '", name, "' (centre, analyst or admin)"));
}

absl::Status ValidateNewKey(const ApiKeyRecord& key, absl::string_view field) {
  auto f = [&](absl::string_view name) { return absl::StrCat(field, field.empty() ? "" : ".", name); };
  if (key.name.empty()) return MissingField(f("name"));
  if (key.name.size() > 200) return InvalidField(f("name"), "longer than 200 bytes");
  switch (key.role) {
    case Role::kUnspecified: return MissingField(f("role"));
    case Role::kCentre:
      if (key.scope_agency_code.empty()) {
        return InvalidField(f("scope_agency_code"), "is required for a centre key (the agency whose dossiers it files)");
      }
      break;
    case Role::kAnalyst: break;
    case Role::kAdmin:
      if (!key.scope_agency_code.empty()) {
        return InvalidField(f("scope_agency_code"), "must be empty for an admin key (admins act on the whole tree)");
      }
      break;
    default: return InvalidField(f("role"), absl::StrCat("unknown role ", static_cast<int>(key.role)));
  }
  if (key.certificate_subject.size() > 256 || !PrintableAscii(key.certificate_subject)) {
    return InvalidField(f("certificate_subject"), "must be printable ASCII, at most 256 bytes");
  }
  if (key.certificate_only && key.certificate_subject.empty()) {
    return InvalidField(f("certificate_only"), "needs a certificate_subject");
  }
  if (!(key.rate_limit_per_second >= 0) || key.rate_limit_per_second > 1e6) {
    return InvalidField(f("rate_limit_per_second"), "must be between 0 (server default) and 1000000");
  }
  return absl::OkStatus();
}

std::string RandomHex(int bytes) { return absl::BytesToHexString(RandomBytes(bytes)); }

std::string MintKey(ApiKeyRecord& key) {
  key.key_id = RandomHex(kKeyIdBytes);
  key.salt = RandomHex(kSaltBytes);
  // A certificate-only identity still gets a random hash nobody can match.
  std::string secret = absl::WebSafeBase64Escape(RandomBytes(kSecretBytes));
  key.secret_hash = HashSecret(key.salt, secret);
  if (key.certificate_only) return "";
  return absl::StrCat(kTokenPrefix, key.key_id, ".", secret);
}

absl::StatusOr<ParsedToken> ParseToken(absl::string_view token) {
  token = absl::StripAsciiWhitespace(token);
  if (!absl::ConsumePrefix(&token, kTokenPrefix)) {
    return absl::UnauthenticatedError("the API key is malformed (expected pst_<key id>.<secret>)");
  }
  size_t dot = token.find('.');
  if (dot != 2 * kKeyIdBytes || !IsHex(token.substr(0, dot)) || token.size() - dot - 1 < 16 ||
      token.size() - dot - 1 > 128) {
    return absl::UnauthenticatedError("the API key is malformed (expected pst_<key id>.<secret>)");
  }
  return ParsedToken{std::string(token.substr(0, dot)), std::string(token.substr(dot + 1))};
}

std::string HashSecret(absl::string_view salt_hex, absl::string_view secret) {
  std::string input = absl::HexStringToBytes(salt_hex);
  input.append(secret.data(), secret.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  OPENSSL_cleanse(input.data(), input.size());
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

bool SecretMatches(const ApiKeyRecord& key, absl::string_view secret) {
  std::string computed = HashSecret(key.salt, secret);
  // Both are 64 hex digits; the length is not secret.
  return computed.size() == key.secret_hash.size() &&
         CRYPTO_memcmp(computed.data(), key.secret_hash.data(), computed.size()) == 0;
}

}  // namespace pstrack
