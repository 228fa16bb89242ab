// API keys: roles, scopes, the token format and how secrets are kept.
//
// A token is "pst_<key id>.<secret>": the key id (16 hex digits) is public
// and finds the key; the secret (32 random bytes, base64url) is shown once
// and stored only as SHA-256(salt || secret) with a per-key random salt.
// Secrets carry 256 bits of entropy, so a fast hash is enough (no password
// stretching is needed, and every RPC can afford the check); comparison is
// in constant time.
#ifndef PSTRACK_SERVICES_SECURITY_API_KEY_H_
#define PSTRACK_SERVICES_SECURITY_API_KEY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pstrack {

// Values match pstrack.v1.Role.
enum class Role { kUnspecified = 0, kCentre = 1, kAnalyst = 2, kAdmin = 3 };

absl::string_view RoleName(Role role);  // "centre", "analyst", "admin"
absl::StatusOr<Role> ParseRole(absl::string_view name, absl::string_view field);

// A key as stored (the secret itself never is).
struct ApiKeyRecord {
  std::string key_id;
  std::string name;
  Role role = Role::kUnspecified;
  std::string scope_agency_code;  // "" = whole country
  std::string certificate_subject;
  bool certificate_only = false;
  std::string salt;         // hex
  std::string secret_hash;  // hex SHA-256(salt bytes || secret)
  double rate_limit_per_second = 0;  // 0 = server default
  int64_t create_us = 0;
  std::string created_by;
  std::optional<int64_t> revoke_us;
  std::string revoked_by;

  bool revoked() const { return revoke_us.has_value(); }
};

// Checks what a client may set on a new key: name, role, scope (required
// for centres, forbidden for admins), certificate subject, rate limit.
// Field names are those of pstrack.v1.ApiKey under `field`.
absl::Status ValidateNewKey(const ApiKeyRecord& key, absl::string_view field);

// A newly minted key: the record's id, salt and hash are filled in, and the
// token to hand to the holder is returned (empty for certificate-only keys).
std::string MintKey(ApiKeyRecord& key);

struct ParsedToken {
  std::string key_id;
  std::string secret;
};
// Parses "pst_<16 hex>.<secret>"; UNAUTHENTICATED (without echoing the
// secret) when malformed.
absl::StatusOr<ParsedToken> ParseToken(absl::string_view token);

// Hex SHA-256 of the salt's bytes followed by the secret.
std::string HashSecret(absl::string_view salt_hex, absl::string_view secret);
// True when the secret matches the record, compared in constant time.
bool SecretMatches(const ApiKeyRecord& key, absl::string_view secret);

// Cryptographically random bytes, hex-encoded.
std::string RandomHex(int bytes);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SECURITY_API_KEY_H_
