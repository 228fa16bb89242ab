// API keys and the audit log.
// Implements its part of a store's transactions (storage/sql_transaction.h).
// Thread-compatible: used inside one transaction.
#ifndef PSTRACK_STORAGE_TABLES_SECURITY_TABLES_H_
#define PSTRACK_STORAGE_TABLES_SECURITY_TABLES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/security/security_store.h"
#include "storage/sql/context.h"

namespace pstrack::sql {

class SqlSecurityTables : public virtual SecurityWriter, protected virtual SqlContext {
 public:
  absl::StatusOr<std::optional<ApiKeyRecord>> FindApiKey(absl::string_view key_id) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> FindApiKeysByCertificate(absl::string_view subject) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(const ApiKeyQuery& query) override;
  absl::Status InsertApiKey(const ApiKeyRecord& k) override;
  absl::Status RevokeApiKey(absl::string_view key_id, int64_t revoke_us, absl::string_view revoked_by) override;
  absl::StatusOr<std::vector<AuditRow>> ListAudit(const AuditQuery& query) override;
  absl::Status InsertAudit(const std::vector<AuditRow>& rows) override;

 protected:
  static constexpr const char* kApiKeyColumns =
      "SELECT key_id, name, role, scope_agency_code, certificate_subject, certificate_only, salt, secret_hash, "
      "rate_limit, create_time_us, created_by, revoke_time_us, revoked_by FROM api_keys";
  absl::StatusOr<std::vector<ApiKeyRecord>> QueryApiKeys(DynamicQuery& q);
};

}  // namespace pstrack::sql

#endif  // PSTRACK_STORAGE_TABLES_SECURITY_TABLES_H_
