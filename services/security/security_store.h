// API keys and the audit log as the security use cases read and write them.
// Thread-compatible.
#ifndef PSTRACK_SERVICES_SECURITY_SECURITY_STORE_H_
#define PSTRACK_SERVICES_SECURITY_SECURITY_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/agencies/agency_store.h"
#include "services/common/batch.h"
#include "services/security/api_key.h"
#include "services/common/transactions.h"

namespace pstrack {

// One entry of the audit log (pstrack.v1.AuditRecord).
struct AuditRow {
  int64_t id = 0;  // assigned on insert
  int64_t at_us = 0;
  std::string principal;
  int role = 0;
  std::string method, target;
  int code = 0;
  std::string message;
  int applied = 0, unchanged = 0, rejected = 0;
  std::string peer;
  int64_t duration_us = 0;
};

// Completes the audit row of a call (its draft says who, the method, the
// peer and when it began, at_us) with the call's outcome: the status (its
// message cut to 1,000 bytes), the target, the batch counts and the time it
// took since `start`. The one place an audit row is finished.
inline void CompleteAuditRow(AuditRow& row, const absl::Status& status, std::string target,
                             const BatchCounts& counts, absl::Time start) {
  row.code = static_cast<int>(status.code());
  row.message = std::string(status.message().substr(0, 1000));
  row.target = std::move(target);
  row.applied = counts.applied;
  row.unchanged = counts.unchanged;
  row.rejected = counts.rejected;
  row.duration_us = absl::ToInt64Microseconds(absl::Now() - start);
}

// Audit entries, newest first.
struct AuditQuery {
  std::string principal = {};
  std::string method_suffix = {};  // matches the end of the method name
  bool failures_only = false;
  std::optional<int64_t> since_us = {}, before_us = {};  // [since, before)
  std::optional<int64_t> before_id = {};  // keyset pagination
  int limit = 100;
};

// API keys, by key id.
struct ApiKeyQuery {
  bool include_revoked = false;
  Role role = Role::kUnspecified;
  std::string after_id = {};
  int limit = 100;
};

class KeyReader {
 public:
  virtual ~KeyReader() = default;
  virtual absl::StatusOr<std::optional<ApiKeyRecord>> FindApiKey(absl::string_view key_id) = 0;
  // Keys (revoked or not) whose certificate identity is `subject`.
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> FindApiKeysByCertificate(absl::string_view subject) = 0;
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(const ApiKeyQuery& query) = 0;
};

class KeyWriter : public virtual KeyReader, public virtual TransactionControl {
 public:
  // Inserts a new key (ALREADY_EXISTS if its id is taken).
  virtual absl::Status InsertApiKey(const ApiKeyRecord& key) = 0;
  // Marks a key revoked.
  virtual absl::Status RevokeApiKey(absl::string_view key_id, int64_t revoke_us, absl::string_view revoked_by) = 0;
};

class AuditReader {
 public:
  virtual ~AuditReader() = default;
  virtual absl::StatusOr<std::vector<AuditRow>> ListAudit(const AuditQuery& query) = 0;
};

class AuditWriter : public virtual TransactionControl {
 public:
  // Appends audit entries (ids assigned by the database).
  virtual absl::Status InsertAudit(const std::vector<AuditRow>& rows) = 0;
};

// What access control reads: keys, the audit log and the agencies of scopes.
class SecurityReader : public virtual AgencyReader, public virtual KeyReader, public virtual AuditReader {};

class SecurityWriter : public virtual SecurityReader, public virtual KeyWriter, public virtual AuditWriter {};

using SecurityStore = Transactions<SecurityReader, SecurityWriter>;

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SECURITY_SECURITY_STORE_H_
