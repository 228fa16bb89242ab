// Identities, roles, scopes, rate limits and the audit log: everything the
// RPC guard (services/api/rpc_guard.h) asks before and after a handler runs,
// and the key administration behind pstrack.v1.AdminService. Thread-safe.
//
// Keys are looked up in the database on every call (a primary-key read), so
// a revocation made through any replica holds on every replica at once.
#ifndef PSTRACK_SERVICES_SECURITY_ACCESS_CONTROL_H_
#define PSTRACK_SERVICES_SECURITY_ACCESS_CONTROL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/group_commit.h"
#include "services/security/api_key.h"
#include "services/security/policy.h"
#include "services/security/rate_limiter.h"
#include "services/security/security_store.h"

namespace pstrack {

// The authenticated caller of an RPC.
struct Caller {
  // Key id (also when identified by a client certificate), or
  // "dev-no-auth" when authentication is disabled.
  std::string principal;
  std::string name;
  Role role = Role::kUnspecified;
  std::string scope_agency_code;  // "" = the whole country
  std::string scope_path;         // path of that agency; "" = everything
  double rate_limit_per_second = 0;
  bool auth_disabled = false;

  bool national() const { return scope_path.empty(); }
  // "agency 22 (Tỉnh Quảng Ninh)" or "the whole country"
  std::string scope_label;
};

struct AccessOptions {
  // Development only: every call is served as an admin of the whole tree.
  bool auth_disabled = false;
  // Requests per second per identity when its key sets none; 0 = unlimited.
  double default_rate_per_second = 200;
  // Bucket size, in seconds of the rate.
  double burst_seconds = 2;
};

class AccessControl {
 public:
  AccessControl(SecurityStore store, AccessOptions options);

  bool auth_disabled() const { return options_.auth_disabled; }
  // Audit records waiting for their group commit now.
  int audit_queue_depth() const { return audits_.waiting(); }

  // Identifies the caller from its token (may be empty) or, when there is
  // none, from the subjects of its verified client certificate.
  // UNAUTHENTICATED for a missing, malformed, unknown or revoked key.
  absl::StatusOr<Caller> Authenticate(absl::string_view token, const std::vector<std::string>& cert_subjects);

  // PERMISSION_DENIED naming the role and the roles allowed.
  static absl::Status CheckRole(const Caller& caller, const MethodPolicy& policy);

  // OK, or RESOURCE_EXHAUSTED; `retry_after` is set to when to retry.
  absl::Status Admit(const Caller& caller, absl::Duration* retry_after);
  // Whether a refused unauthenticated attempt from `peer` is recorded in
  // the audit log: at most a few a second per address, so that anonymous
  // floods cannot turn into database writes.
  bool AuditAnonymousAttempt(absl::string_view peer);
  // For long-lived calls (streams): UNAUTHENTICATED once the caller's key
  // has been revoked since the call began.
  absl::Status StillValid(const Caller& caller);

  // OK when the agency lies in the caller's scope; PERMISSION_DENIED naming
  // `field` and the scope otherwise; NOT_FOUND for an unknown agency.
  absl::Status RequireInScope(const Caller& caller, absl::string_view agency_code, absl::string_view field);
  // For batches: whether each agency lies in the scope (unknown agencies are
  // reported in scope so that the write path reports them NOT_FOUND).
  absl::StatusOr<absl::flat_hash_map<std::string, bool>> InScope(const Caller& caller,
                                                                 const std::vector<std::string>& agency_codes);
  // Whether a stored agency path lies in the caller's scope.
  static bool PathInScope(const Caller& caller, absl::string_view path);
  // PERMISSION_DENIED for `field` reaching outside `caller`'s scope.
  static absl::Status OutOfScope(const Caller& caller, absl::string_view field, absl::string_view what);

  // Key administration. CreateKey returns the stored record and the token
  // (shown once).
  absl::StatusOr<std::pair<ApiKeyRecord, std::string>> CreateKey(ApiKeyRecord key, absl::string_view created_by);
  absl::StatusOr<std::vector<ApiKeyRecord>> ListKeys(const ApiKeyQuery& query);
  absl::StatusOr<ApiKeyRecord> RevokeKey(absl::string_view key_id, absl::string_view revoked_by);
  // Whether an admin key that is not revoked exists (warned about at start).
  absl::StatusOr<bool> HasActiveAdmin();

  // Appends to the audit log, durable on return. Concurrent callers share
  // one transaction (group commit).
  absl::Status Audit(AuditRow row);
  absl::StatusOr<std::vector<AuditRow>> ListAudit(const AuditQuery& query);

 private:
  absl::StatusOr<Caller> CallerFromKey(SecurityReader& tx, const ApiKeyRecord& key, std::string principal);

  struct PendingAudit {
    AuditRow row;
    absl::Status written;
  };
  void WriteAudits(std::vector<PendingAudit*>& group, absl::FunctionRef<void()> hand_on);

  SecurityStore store_;
  const AccessOptions options_;
  RateLimiter limiter_;
  GroupCommit<PendingAudit> audits_;
  // Ceiling::kCachedAuth only (a measurement build): callers by token.
  absl::Mutex ceiling_mu_;
  absl::flat_hash_map<std::string, Caller> ceiling_callers_ ABSL_GUARDED_BY(ceiling_mu_);
};

// Creates a key straight in the database (pstrack-admin, first admin key):
// the same validation and storage as AdminService.CreateApiKey.
absl::StatusOr<std::pair<ApiKeyRecord, std::string>> CreateKeyInStore(SecurityStore store, ApiKeyRecord key,
                                                                      absl::string_view created_by);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SECURITY_ACCESS_CONTROL_H_
