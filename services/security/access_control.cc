#include "services/security/access_control.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/call_limits.h"
#include "services/common/ceilings.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

constexpr absl::string_view kUnknownKey = "the API key is not known or has been revoked";
constexpr double kAnonymousAuditsPerSecond = 5;

std::string ScopeLabel(const Agency* agency) {
  if (agency == nullptr) return "the whole country";
  return absl::StrCat("agency ", agency->code, " (", agency->name, ")");
}

}  // namespace

AccessControl::AccessControl(SecurityStore store, AccessOptions options)
    : store_(store),
      options_(options),
      limiter_(options.burst_seconds),
      audits_([this](std::vector<PendingAudit*>& group, absl::FunctionRef<void()> hand_on) {
        WriteAudits(group, hand_on);
      }) {
  audits_.set_group_sizes(&GroupCommitSizes().With({"audit"}));
}

absl::StatusOr<Caller> AccessControl::CallerFromKey(SecurityReader& tx, const ApiKeyRecord& key,
                                                    std::string principal) {
  Caller c;
  c.principal = std::move(principal);
  c.name = key.name;
  c.role = key.role;
  c.scope_agency_code = key.scope_agency_code;
  c.rate_limit_per_second = key.rate_limit_per_second > 0 ? key.rate_limit_per_second : options_.default_rate_per_second;
  c.scope_label = ScopeLabel(nullptr);
  if (!key.scope_agency_code.empty()) {
    PSTRACK_ASSIGN_OR_RETURN(std::optional<Agency> agency, tx.FindAgency(key.scope_agency_code));
    // The foreign key keeps the agency; a missing one would be a bug, and
    // must never widen the scope.
    if (!agency) return absl::InternalError(absl::StrCat("scope agency of key ", key.key_id, " is missing"));
    c.scope_path = agency->path;
    c.scope_label = ScopeLabel(&*agency);
  }
  return c;
}

absl::StatusOr<Caller> AccessControl::Authenticate(absl::string_view token,
                                                   const std::vector<std::string>& cert_subjects) {
  if (options_.auth_disabled) {
    Caller c;
    c.principal = "dev-no-auth";
    c.name = "authentication disabled (--dev_no_auth)";
    c.role = Role::kAdmin;
    c.rate_limit_per_second = options_.default_rate_per_second;
    c.auth_disabled = true;
    c.scope_label = ScopeLabel(nullptr);
    return c;
  }
  if (!token.empty()) {
    if (CeilingOn(Ceiling::kCachedAuth)) {
      absl::MutexLock lock(&ceiling_mu_);
      if (auto it = ceiling_callers_.find(token); it != ceiling_callers_.end()) return it->second;
    }
    PSTRACK_ASSIGN_OR_RETURN(ParsedToken parsed, ParseToken(token));
    absl::StatusOr<Caller> caller;
    PSTRACK_RETURN_IF_ERROR(store_.Read([&](SecurityReader& tx) -> absl::Status {
      PSTRACK_ASSIGN_OR_RETURN(std::optional<ApiKeyRecord> key, tx.FindApiKey(parsed.key_id));
      // The hash is computed whether or not the key exists, so that timing
      // does not tell which key ids exist.
      static const ApiKeyRecord kDecoy = [] {
        ApiKeyRecord r;
        r.salt = std::string(32, '0');
        r.secret_hash = std::string(64, '0');
        return r;
      }();
      const bool match = SecretMatches(key ? *key : kDecoy, parsed.secret);
      if (!key || !match || key->revoked() || key->certificate_only) {
        caller = absl::UnauthenticatedError(kUnknownKey);
        return absl::OkStatus();
      }
      caller = CallerFromKey(tx, *key, key->key_id);
      return absl::OkStatus();
    }));
    if (caller.ok() && CeilingOn(Ceiling::kCachedAuth)) {
      absl::MutexLock lock(&ceiling_mu_);
      ceiling_callers_.emplace(token, *caller);
    }
    return caller;
  }
  if (!cert_subjects.empty()) {
    absl::StatusOr<Caller> caller = absl::UnauthenticatedError(absl::StrCat(
        "the client certificate (", cert_subjects.front(), ") is not registered as an identity and no API key was sent"));
    PSTRACK_RETURN_IF_ERROR(store_.Read([&](SecurityReader& tx) -> absl::Status {
      for (const std::string& subject : cert_subjects) {
        PSTRACK_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, tx.FindApiKeysByCertificate(subject));
        for (const ApiKeyRecord& key : keys) {
          if (key.revoked()) continue;
          caller = CallerFromKey(tx, key, key.key_id);
          if (caller.ok()) absl::StrAppend(&caller->name, " (client certificate ", subject, ")");
          return absl::OkStatus();
        }
      }
      return absl::OkStatus();
    }));
    return caller;
  }
  return absl::UnauthenticatedError(
      "no credentials: send an API key as gRPC metadata 'authorization: Bearer pst_...' (or 'x-api-key'), "
      "or a registered client certificate");
}

absl::Status AccessControl::CheckRole(const Caller& caller, const MethodPolicy& policy) {
  if (policy.allows(caller.role)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("role ", RoleName(caller.role), " may not call ",
                                                  policy.full_name(), " (allowed: ", policy.allowed_roles(), ")"));
}

absl::Status AccessControl::Admit(const Caller& caller, absl::Duration* retry_after) {
  absl::Duration wait = limiter_.Take(caller.principal, caller.rate_limit_per_second, absl::Now());
  *retry_after = wait;
  if (wait == absl::ZeroDuration()) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "rate limit of ", caller.rate_limit_per_second, " requests/s for ", caller.principal,
      " exceeded; retry after ", absl::ToInt64Milliseconds(wait) + 1, " ms"));
}

bool AccessControl::AuditAnonymousAttempt(absl::string_view peer) {
  // "ipv4:10.0.0.7:51234" -> "ipv4:10.0.0.7" (the port changes per connection).
  absl::string_view address = peer.substr(0, peer.rfind(':'));
  return limiter_.Take(absl::StrCat("anonymous@", address), kAnonymousAuditsPerSecond, absl::Now()) ==
         absl::ZeroDuration();
}

absl::Status AccessControl::StillValid(const Caller& caller) {
  if (caller.auth_disabled) return absl::OkStatus();
  std::optional<ApiKeyRecord> key;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](SecurityReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(key, tx.FindApiKey(caller.principal));
    return absl::OkStatus();
  }));
  if (!key || key->revoked()) return absl::UnauthenticatedError(kUnknownKey);
  return absl::OkStatus();
}

bool AccessControl::PathInScope(const Caller& caller, absl::string_view path) {
  if (caller.scope_path.empty()) return true;
  return path == caller.scope_path ||
         (absl::StartsWith(path, caller.scope_path) && path.size() > caller.scope_path.size() &&
          path[caller.scope_path.size()] == '/');
}

absl::Status AccessControl::OutOfScope(const Caller& caller, absl::string_view field, absl::string_view what) {
  return FieldError(absl::StatusCode::kPermissionDenied, field,
                    absl::StrCat(what, " is outside the scope of key ", caller.principal, ": ", caller.scope_label));
}

absl::Status AccessControl::RequireInScope(const Caller& caller, absl::string_view agency_code,
                                           absl::string_view field) {
  if (caller.national()) return absl::OkStatus();
  std::optional<Agency> agency;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](SecurityReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(agency, tx.FindAgency(agency_code));
    return absl::OkStatus();
  }));
  if (!agency) return FieldError(absl::StatusCode::kNotFound, field, absl::StrCat("agency '", agency_code, "' does not exist"));
  if (!PathInScope(caller, agency->path)) return OutOfScope(caller, field, absl::StrCat("agency ", agency_code));
  return absl::OkStatus();
}

absl::StatusOr<absl::flat_hash_map<std::string, bool>> AccessControl::InScope(
    const Caller& caller, const std::vector<std::string>& agency_codes) {
  absl::flat_hash_map<std::string, bool> out;
  for (const std::string& code : agency_codes) out[code] = true;
  if (caller.national()) return out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](SecurityReader& tx) -> absl::Status {
    for (auto& [code, in] : out) {
      PSTRACK_ASSIGN_OR_RETURN(std::optional<Agency> agency, tx.FindAgency(code));
      in = !agency || PathInScope(caller, agency->path);
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::pair<ApiKeyRecord, std::string>> CreateKeyInStore(SecurityStore store, ApiKeyRecord key,
                                                                      absl::string_view created_by) {
  PSTRACK_RETURN_IF_ERROR(ValidateNewKey(key, "key"));
  key.create_us = absl::ToUnixMicros(absl::Now());
  key.created_by = std::string(created_by);
  key.revoke_us.reset();
  key.revoked_by.clear();
  std::string token = MintKey(key);
  PSTRACK_RETURN_IF_ERROR(store.Write([&](SecurityWriter& tx) -> absl::Status {
    if (!key.scope_agency_code.empty()) {
      PSTRACK_ASSIGN_OR_RETURN(std::optional<Agency> agency, tx.FindAgency(key.scope_agency_code));
      if (!agency) {
        return FieldError(absl::StatusCode::kNotFound, "key.scope_agency_code",
                          absl::StrCat("agency '", key.scope_agency_code, "' does not exist"));
      }
    }
    if (!key.certificate_subject.empty()) {
      PSTRACK_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> same, tx.FindApiKeysByCertificate(key.certificate_subject));
      for (const ApiKeyRecord& other : same) {
        if (!other.revoked()) {
          return FieldError(absl::StatusCode::kAlreadyExists, "key.certificate_subject",
                            absl::StrCat("'", key.certificate_subject, "' already identifies key ", other.key_id));
        }
      }
    }
    return tx.InsertApiKey(key);
  }));
  return std::make_pair(std::move(key), std::move(token));
}

absl::StatusOr<std::pair<ApiKeyRecord, std::string>> AccessControl::CreateKey(ApiKeyRecord key,
                                                                             absl::string_view created_by) {
  return CreateKeyInStore(store_, std::move(key), created_by);
}

absl::StatusOr<std::vector<ApiKeyRecord>> AccessControl::ListKeys(const ApiKeyQuery& query) {
  std::vector<ApiKeyRecord> out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](SecurityReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(out, tx.ListApiKeys(query));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ApiKeyRecord> AccessControl::RevokeKey(absl::string_view key_id, absl::string_view revoked_by) {
  if (key_id.empty()) return MissingField("key_id");
  ApiKeyRecord revoked;
  PSTRACK_RETURN_IF_ERROR(store_.Write([&](SecurityWriter& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(std::optional<ApiKeyRecord> key, tx.FindApiKey(key_id));
    if (!key) return FieldError(absl::StatusCode::kNotFound, "key_id", absl::StrCat("key '", key_id, "' does not exist"));
    if (key->revoked()) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "key_id",
                        absl::StrCat("key '", key_id, "' was already revoked by ", key->revoked_by));
    }
    key->revoke_us = absl::ToUnixMicros(absl::Now());
    key->revoked_by = std::string(revoked_by);
    PSTRACK_RETURN_IF_ERROR(tx.RevokeApiKey(key_id, *key->revoke_us, revoked_by));
    revoked = *std::move(key);
    return absl::OkStatus();
  }));
  return revoked;
}

absl::StatusOr<bool> AccessControl::HasActiveAdmin() {
  ApiKeyQuery q;
  q.role = Role::kAdmin;
  q.limit = 1;
  PSTRACK_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, ListKeys(q));
  return !keys.empty();
}

absl::Status AccessControl::Audit(AuditRow row) {
  PendingAudit pending{std::move(row), absl::OkStatus()};
  audits_.Submit(&pending);
  return pending.written;
}

void AccessControl::WriteAudits(std::vector<PendingAudit*>& group, absl::FunctionRef<void()> hand_on) {
  std::vector<AuditRow> rows;
  for (const PendingAudit* p : group) rows.push_back(p->row);
  ScopedCallLimits no_limits(absl::InfiniteFuture());  // the group is everyone's
  absl::Status written = store_.Write([&](SecurityWriter& tx) { return tx.InsertAudit(rows); }, hand_on);
  for (PendingAudit* p : group) p->written = written;
}

absl::StatusOr<std::vector<AuditRow>> AccessControl::ListAudit(const AuditQuery& query) {
  std::vector<AuditRow> out;
  PSTRACK_RETURN_IF_ERROR(store_.Read([&](SecurityReader& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(out, tx.ListAudit(query));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace pstrack
