#include "services/api/admin_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/api/convert.h"
#include "services/api/filing_convert.h"
#include "services/common/page_token.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

void KeyToProto(const ApiKeyRecord& k, v1::ApiKey* out) {
  out->set_key_id(k.key_id);
  out->set_name(k.name);
  out->set_role(static_cast<v1::Role>(k.role));
  out->set_scope_agency_code(k.scope_agency_code);
  out->set_certificate_subject(k.certificate_subject);
  out->set_certificate_only(k.certificate_only);
  out->set_rate_limit_per_second(k.rate_limit_per_second);
  TimeToProto(absl::FromUnixMicros(k.create_us), out->mutable_create_time());
  out->set_created_by(k.created_by);
  if (k.revoke_us) TimeToProto(absl::FromUnixMicros(*k.revoke_us), out->mutable_revoke_time());
  out->set_revoked_by(k.revoked_by);
}

absl::StatusOr<ApiKeyRecord> KeyFromProto(const v1::ApiKey& in) {
  ApiKeyRecord k;
  k.name = in.name();
  if (in.role() < 0 || in.role() > 3) return InvalidField("key.role", absl::StrCat("unknown role ", in.role()));
  k.role = static_cast<Role>(in.role());
  k.scope_agency_code = in.scope_agency_code();
  k.certificate_subject = in.certificate_subject();
  k.certificate_only = in.certificate_only();
  k.rate_limit_per_second = in.rate_limit_per_second();
  return k;
}

}  // namespace

grpc::Status AdminServiceImpl::CreateApiKey(grpc::ServerContext* context, const v1::CreateApiKeyRequest* request,
                                            v1::CreateApiKeyResponse* response) {
  return guard_.Run(context, "CreateApiKey", *request, [&](Call& call) -> absl::Status {
    if (!request->has_key()) return MissingField("key");
    PSTRACK_ASSIGN_OR_RETURN(ApiKeyRecord key, KeyFromProto(request->key()));
    call.SetTarget(absl::StrCat("new ", RoleName(key.role), " key '", key.name, "'"));
    PSTRACK_ASSIGN_OR_RETURN(auto created, call.access().CreateKey(std::move(key), call.caller().principal));
    call.SetTarget(absl::StrCat("key ", created.first.key_id, " (", RoleName(created.first.role), ", '",
                                created.first.name, "')"));
    KeyToProto(created.first, response->mutable_key());
    response->set_token(created.second);
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::ListApiKeys(grpc::ServerContext* context, const v1::ListApiKeysRequest* request,
                                           v1::ListApiKeysResponse* response) {
  return guard_.Run(context, "ListApiKeys", *request, [&](Call& call) -> absl::Status {
    ApiKeyQuery q;
    q.include_revoked = request->include_revoked();
    if (request->role() < 0 || request->role() > 3) return InvalidField("role", "unknown role");
    q.role = static_cast<Role>(request->role());
    PSTRACK_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request->page_size()));
    const std::string fingerprint = FilterFingerprint(absl::StrCat("keys|", q.include_revoked, "|", request->role()));
    if (!request->page_token().empty()) {
      PSTRACK_ASSIGN_OR_RETURN(q.after_id, DecodePageToken(request->page_token(), fingerprint));
    }
    q.limit = page_size + 1;
    PSTRACK_ASSIGN_OR_RETURN(std::vector<ApiKeyRecord> keys, call.access().ListKeys(q));
    const bool more = static_cast<int>(keys.size()) > page_size;
    if (more) keys.resize(page_size);
    for (const ApiKeyRecord& k : keys) KeyToProto(k, response->add_keys());
    if (more) response->set_next_page_token(EncodePageToken(fingerprint, keys.back().key_id));
    call.SetTarget(absl::StrCat(keys.size(), " keys listed"));
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::RevokeApiKey(grpc::ServerContext* context, const v1::RevokeApiKeyRequest* request,
                                            v1::ApiKey* response) {
  return guard_.Run(context, "RevokeApiKey", *request, [&](Call& call) -> absl::Status {
    call.SetTarget(absl::StrCat("key ", request->key_id()));
    PSTRACK_ASSIGN_OR_RETURN(ApiKeyRecord key, call.access().RevokeKey(request->key_id(), call.caller().principal));
    KeyToProto(key, response);
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::ListAuditRecords(grpc::ServerContext* context,
                                                const v1::ListAuditRecordsRequest* request,
                                                v1::ListAuditRecordsResponse* response) {
  return guard_.Run(context, "ListAuditRecords", *request, [&](Call& call) -> absl::Status {
    AuditQuery q;
    q.principal = request->principal();
    q.method_suffix = request->method();
    q.failures_only = request->failures_only();
    if (request->has_since()) {
      PSTRACK_ASSIGN_OR_RETURN(absl::Time t, TimeFromProto(request->since(), "since"));
      q.since_us = absl::ToUnixMicros(t);
    }
    if (request->has_before()) {
      PSTRACK_ASSIGN_OR_RETURN(absl::Time t, TimeFromProto(request->before(), "before"));
      q.before_us = absl::ToUnixMicros(t);
    }
    if (q.since_us && q.before_us && *q.before_us <= *q.since_us) return InvalidField("before", "must be after since");
    PSTRACK_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request->page_size()));
    const std::string fingerprint = FilterFingerprint(
        absl::StrCat("audit|", q.principal, "|", q.method_suffix, "|", q.failures_only, "|", q.since_us.value_or(-1),
                     "|", q.before_us.value_or(-1)));
    if (!request->page_token().empty()) {
      PSTRACK_ASSIGN_OR_RETURN(std::string last, DecodePageToken(request->page_token(), fingerprint));
      int64_t id = 0;
      if (!absl::SimpleAtoi(last, &id)) return InvalidField("page_token", "is not a token of this listing");
      q.before_id = id;
    }
    q.limit = page_size + 1;
    PSTRACK_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, call.access().ListAudit(q));
    const bool more = static_cast<int>(rows.size()) > page_size;
    if (more) rows.resize(page_size);
    for (const AuditRow& r : rows) {
      v1::AuditRecord* out = response->add_records();
      out->set_id(r.id);
      TimeToProto(absl::FromUnixMicros(r.at_us), out->mutable_time());
      out->set_principal(r.principal);
      out->set_role(static_cast<v1::Role>(r.role));
      out->set_method(r.method);
      out->set_target(r.target);
      out->set_code(r.code);
      out->set_message(r.message);
      out->set_applied(r.applied);
      out->set_unchanged(r.unchanged);
      out->set_rejected(r.rejected);
      out->set_peer(r.peer);
      out->set_duration_us(r.duration_us);
    }
    if (more) response->set_next_page_token(EncodePageToken(fingerprint, absl::StrCat(rows.back().id)));
    call.SetTarget(absl::StrCat(rows.size(), " audit records listed"));
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::ReloadMethodologies(grpc::ServerContext* context,
                                                   const v1::ReloadMethodologiesRequest* request,
                                                   v1::ReloadMethodologiesResponse* response) {
  return guard_.Run(context, "ReloadMethodologies", *request, [&](Call& call) -> absl::Status {
    call.SetTarget("methodologies");
    if (!reload_) return absl::FailedPreconditionError("no methodology directory configured");
    PSTRACK_ASSIGN_OR_RETURN(std::shared_ptr<const MethodologyRegistry> registry, reload_());
    for (const Methodology* m : registry->All()) response->add_methodology_ids(m->id);
    response->set_default_id(registry->default_id());
    return absl::OkStatus();
  });
}

grpc::Status AdminServiceImpl::WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest* request,
                                      v1::WhoAmIResponse* response) {
  return guard_.Run(context, "WhoAmI", *request, [&](Call& call) -> absl::Status {
    const Caller& c = call.caller();
    response->set_principal(c.principal);
    response->set_role(static_cast<v1::Role>(c.role));
    response->set_scope_agency_code(c.scope_agency_code);
    response->set_name(c.name);
    response->set_authentication_disabled(c.auth_disabled);
    return absl::OkStatus();
  });
}

}  // namespace pstrack
