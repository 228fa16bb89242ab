#include "storage/tables/security_tables.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/text.h"

namespace pstrack::sql {

absl::StatusOr<std::optional<ApiKeyRecord>> SqlSecurityTables::FindApiKey(absl::string_view key_id) {
  DynamicQuery q;
  q.sql = absl::StrCat(kApiKeyColumns, " WHERE key_id = ", q.Bind(std::string(key_id)));
  PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryApiKeys(q));
  if (rows.empty()) return std::optional<ApiKeyRecord>();
  return std::optional<ApiKeyRecord>(std::move(rows.front()));
}

absl::StatusOr<std::vector<ApiKeyRecord>> SqlSecurityTables::FindApiKeysByCertificate(absl::string_view subject) {
  DynamicQuery q;
  q.sql =
      absl::StrCat(kApiKeyColumns, " WHERE certificate_subject = ", q.Bind(std::string(subject)), " ORDER BY key_id");
  return QueryApiKeys(q);
}

absl::StatusOr<std::vector<ApiKeyRecord>> SqlSecurityTables::ListApiKeys(const ApiKeyQuery& query) {
  DynamicQuery q;
  q.sql = absl::StrCat(kApiKeyColumns, " WHERE key_id > ", q.Bind(query.after_id));
  if (!query.include_revoked) absl::StrAppend(&q.sql, " AND revoke_time_us IS NULL");
  if (query.role != Role::kUnspecified) {
    absl::StrAppend(&q.sql, " AND role = ", q.Bind(static_cast<int>(query.role)));
  }
  absl::StrAppend(&q.sql, " ORDER BY key_id LIMIT ", q.Bind(query.limit));
  return QueryApiKeys(q);
}

absl::Status SqlSecurityTables::InsertApiKey(const ApiKeyRecord& k) {
  PSTRACK_ASSIGN_OR_RETURN(auto existing, FindApiKey(k.key_id));
  if (existing) return absl::AlreadyExistsError(absl::StrCat("key_id: key '", k.key_id, "' already exists"));
  DynamicQuery q;
  auto nullable = [&](const std::string& v) { return v.empty() ? std::string("NULL") : q.Bind(v); };
  q.sql = absl::StrCat(
      "INSERT INTO api_keys (key_id, name, role, scope_agency_code, certificate_subject, certificate_only, salt, "
      "secret_hash, rate_limit, create_time_us, created_by) VALUES (",
      q.Bind(k.key_id), ", ", q.Bind(k.name), ", ", q.Bind(static_cast<int>(k.role)), ", ");
  absl::StrAppend(&q.sql, nullable(k.scope_agency_code), ", ");
  absl::StrAppend(&q.sql, nullable(k.certificate_subject), ", ", q.Bind(k.certificate_only ? 1 : 0), ", ");
  absl::StrAppend(&q.sql, q.Bind(k.salt), ", ", q.Bind(k.secret_hash), ", ", q.BindDouble(k.rate_limit_per_second),
                  ", ");
  absl::StrAppend(&q.sql, q.BindInt64(k.create_us), ", ", q.Bind(k.created_by), ")");
  return Execute(q);
}

absl::Status SqlSecurityTables::RevokeApiKey(absl::string_view key_id, int64_t revoke_us,
                                             absl::string_view revoked_by) {
  DynamicQuery q;
  q.sql = absl::StrCat("UPDATE api_keys SET revoke_time_us = ", q.BindInt64(revoke_us), ", revoked_by = ");
  absl::StrAppend(&q.sql, q.Bind(std::string(revoked_by)), " WHERE key_id = ");
  absl::StrAppend(&q.sql, q.Bind(std::string(key_id)), " AND revoke_time_us IS NULL");
  return Execute(q);
}

absl::StatusOr<std::vector<AuditRow>> SqlSecurityTables::ListAudit(const AuditQuery& query) {
  DynamicQuery q;
  q.sql =
      "SELECT id, at_us, principal, role, method, target, code, message, applied, unchanged, rejected, peer, "
      "duration_us FROM audit_log WHERE 1 = 1";
  if (!query.principal.empty()) absl::StrAppend(&q.sql, " AND principal = ", q.Bind(query.principal));
  if (!query.method_suffix.empty()) {
    // A suffix match without LIKE (whose escaping and case rules differ
    // between the backends).
    absl::StrAppend(&q.sql, " AND SUBSTR(method, LENGTH(method) - ",
                    q.Bind(static_cast<int>(query.method_suffix.size())), " + 1) = ");
    absl::StrAppend(&q.sql, q.Bind(query.method_suffix));
  }
  if (query.failures_only) absl::StrAppend(&q.sql, " AND code <> 0");
  if (query.since_us) absl::StrAppend(&q.sql, " AND at_us >= ", q.BindInt64(*query.since_us));
  if (query.before_us) absl::StrAppend(&q.sql, " AND at_us < ", q.BindInt64(*query.before_us));
  if (query.before_id) absl::StrAppend(&q.sql, " AND id < ", q.BindInt64(*query.before_id));
  absl::StrAppend(&q.sql, " ORDER BY id DESC LIMIT ", q.Bind(query.limit));
  std::vector<AuditRow> out;
  AuditRow r;
  long long id = 0, at = 0, duration = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(id));
        st.exchange(Into(at));
        st.exchange(Into(r.principal));
        st.exchange(Into(r.role));
        st.exchange(Into(r.method));
        st.exchange(Into(r.target));
        st.exchange(Into(r.code));
        st.exchange(Into(r.message));
        st.exchange(Into(r.applied));
        st.exchange(Into(r.unchanged));
        st.exchange(Into(r.rejected));
        st.exchange(Into(r.peer));
        st.exchange(Into(duration));
      },
      [&] {
        r.id = id;
        r.at_us = at;
        r.duration_us = duration;
        out.push_back(r);
      }));
  return out;
}

absl::Status SqlSecurityTables::InsertAudit(const std::vector<AuditRow>& rows) {
  for (size_t begin = 0, end = 0; begin < rows.size(); begin = end) {
    end = ChunkEnd(begin, rows.size(), 64);
    DynamicQuery q;
    q.sql =
        "INSERT INTO audit_log (at_us, principal, role, method, target, code, message, applied, unchanged, "
        "rejected, peer, duration_us) VALUES ";
    for (size_t i = begin; i < end; ++i) {
      const AuditRow& r = rows[i];
      absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.BindInt64(r.at_us), ", ", q.Bind(r.principal), ", ");
      absl::StrAppend(&q.sql, q.Bind(r.role), ", ", q.Bind(r.method), ", ", q.Bind(r.target), ", ");
      absl::StrAppend(&q.sql, q.Bind(r.code), ", ", q.Bind(r.message), ", ", q.Bind(r.applied), ", ");
      absl::StrAppend(&q.sql, q.Bind(r.unchanged), ", ", q.Bind(r.rejected), ", ", q.Bind(r.peer), ", ");
      absl::StrAppend(&q.sql, q.BindInt64(r.duration_us), ")");
    }
    PSTRACK_RETURN_IF_ERROR(Execute(q));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ApiKeyRecord>> SqlSecurityTables::QueryApiKeys(DynamicQuery& q) {
  std::vector<ApiKeyRecord> out;
  ApiKeyRecord k;
  int role = 0, cert_only = 0;
  NullableText scope, subject, revoked_by;
  long long created = 0, revoked = 0;
  soci::indicator revoked_ind = soci::i_null;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(k.key_id));
        st.exchange(Into(k.name));
        st.exchange(Into(role));
        st.exchange(Into(scope.value, scope.ind));
        st.exchange(Into(subject.value, subject.ind));
        st.exchange(Into(cert_only));
        st.exchange(Into(k.salt));
        st.exchange(Into(k.secret_hash));
        st.exchange(Into(k.rate_limit_per_second));
        st.exchange(Into(created));
        st.exchange(Into(k.created_by));
        st.exchange(Into(revoked, revoked_ind));
        st.exchange(Into(revoked_by.value, revoked_by.ind));
      },
      [&] {
        ApiKeyRecord r = k;
        r.role = static_cast<Role>(role);
        r.scope_agency_code = scope.get();
        r.certificate_subject = subject.get();
        r.certificate_only = cert_only != 0;
        r.create_us = created;
        if (revoked_ind == soci::i_ok) r.revoke_us = revoked;
        r.revoked_by = revoked_by.get();
        out.push_back(std::move(r));
      }));
  return out;
}

}  // namespace pstrack::sql
