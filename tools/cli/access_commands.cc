// whoami, API keys, the audit log, and reloading the methodologies: what
// admins do.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"
#include "services/security/api_key.h"
#include "tools/cli/calls.h"
#include "tools/cli/client.h"
#include "tools/cli/commands.h"
#include "tools/cli/exit_code.h"
#include "tools/cli/request_options.h"

namespace pstrack::cli {
namespace {

constexpr char kGroup[] = "Access (docs/security.md)";

absl::StatusOr<int> WhoAmI(Context& ctx, const Args&) {
  v1::WhoAmIRequest req;
  v1::WhoAmIResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.admin().WhoAmI(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  ctx.out << "principal: " << resp.principal() << "\nname: " << resp.name() << "\nrole: " << RoleText(resp.role())
          << "\nscope: " << (resp.scope_agency_code().empty() ? "the whole country" : resp.scope_agency_code()) << "\n";
  if (resp.authentication_disabled()) ctx.out << "WARNING: the server runs without authentication\n";
  return kExitOk;
}

absl::StatusOr<int> KeyCreate(Context& ctx, const Args& args) {
  v1::CreateApiKeyRequest req;
  v1::ApiKey* key = req.mutable_key();
  key->set_name(args.String("name"));
  if (args.String("role").empty()) return UsageError("key create needs --role centre|analyst|admin");
  PSTRACK_ASSIGN_OR_RETURN(Role role, ParseRole(args.String("role"), "--role"));
  key->set_role(static_cast<v1::Role>(role));
  key->set_scope_agency_code(args.String("scope"));
  key->set_certificate_subject(args.String("certificate_subject"));
  key->set_certificate_only(args.Bool("certificate_only"));
  key->set_rate_limit_per_second(args.Double("rate"));
  v1::CreateApiKeyResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.admin().CreateApiKey(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
    return kExitOk;
  }
  ctx.out << "created " << RoleText(resp.key().role()) << " key " << resp.key().key_id() << " for '"
          << resp.key().name() << "'";
  if (!resp.key().scope_agency_code().empty()) ctx.out << ", scope " << resp.key().scope_agency_code();
  ctx.out << "\n";
  if (!resp.token().empty()) {
    ctx.out << "token (shown once; pstrack keeps only a salted hash):\n" << resp.token() << "\n";
  } else {
    ctx.out << "certificate-only identity: clients present a certificate named '" << resp.key().certificate_subject()
            << "'\n";
  }
  return kExitOk;
}

absl::StatusOr<int> KeyList(Context& ctx, const Args& args) {
  v1::ListApiKeysRequest req;
  req.set_include_revoked(args.Bool("all"));
  if (!args.String("role").empty()) {
    PSTRACK_ASSIGN_OR_RETURN(Role role, ParseRole(args.String("role"), "--role"));
    req.set_role(static_cast<v1::Role>(role));
  }
  v1::ListApiKeysResponse all;
  do {
    v1::ListApiKeysResponse page;
    PSTRACK_RETURN_IF_ERROR(
        ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.admin().ListApiKeys(c, req, &page); }));
    for (auto& k : *page.mutable_keys()) *all.add_keys() = std::move(k);
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, all));
    return kExitOk;
  }
  Table t({"KEY ID", "ROLE", "SCOPE", "NAME", "CERTIFICATE", "RATE/S", "CREATED", "REVOKED"});
  for (const auto& k : all.keys()) {
    t.AddRow({k.key_id(), RoleText(k.role()), k.scope_agency_code().empty() ? "VN (all)" : k.scope_agency_code(),
              k.name(), k.certificate_subject() + (k.certificate_only() ? " (only)" : ""),
              k.rate_limit_per_second() > 0 ? RawNumber(k.rate_limit_per_second()) : "default",
              TimeText(k.create_time()) + " by " + k.created_by(),
              k.has_revoke_time() ? TimeText(k.revoke_time()) + " by " + k.revoked_by() : ""});
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!Raw(ctx.output)) ctx.out << all.keys_size() << " keys\n";
  return kExitOk;
}

absl::StatusOr<int> KeyRevoke(Context& ctx, const Args& args) {
  v1::RevokeApiKeyRequest req;
  req.set_key_id(args.positional(0));
  v1::ApiKey resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.admin().RevokeApiKey(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
  } else {
    ctx.out << "revoked key " << resp.key_id() << " ('" << resp.name() << "'); it is refused from now on\n";
  }
  return kExitOk;
}

absl::StatusOr<int> AuditList(Context& ctx, const Args& args) {
  v1::ListAuditRecordsRequest req;
  req.set_principal(args.String("principal"));
  req.set_method(args.String("method"));
  req.set_failures_only(args.Bool("failures"));
  const int limit = args.Int("limit") > 0 ? args.Int("limit") : 100;
  v1::ListAuditRecordsResponse all;
  PSTRACK_RETURN_IF_ERROR(FetchPages(
      ctx.client, req, limit, [](v1::ListAuditRecordsResponse& r) { return r.mutable_records(); },
      [&](grpc::ClientContext* c, const v1::ListAuditRecordsRequest& q, v1::ListAuditRecordsResponse* r) {
        return ctx.client.admin().ListAuditRecords(c, q, r);
      },
      &all));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, all));
    return kExitOk;
  }
  Table t({"ID", "TIME", "PRINCIPAL", "ROLE", "METHOD", "TARGET", "RESULT", "APPLIED", "UNCHANGED", "REJECTED", "MS"});
  if (!Raw(ctx.output)) {
    t.SetMaxWidth(5, 40);
    t.SetMaxWidth(6, 60);
  }
  for (const auto& r : all.records()) {
    std::string method = r.method().substr(r.method().rfind('.') + 1);
    t.AddRow(
        {absl::StrCat(r.id()), TimeText(r.time()), r.principal(), RoleText(r.role()), method, r.target(),
         r.code() == 0 ? "OK" : absl::StrCat(StatusName(static_cast<grpc::StatusCode>(r.code())), ": ", r.message()),
         absl::StrCat(r.applied()), absl::StrCat(r.unchanged()), absl::StrCat(r.rejected()),
         absl::StrCat(r.duration_us() / 1000)});
  }
  PSTRACK_RETURN_IF_ERROR(PrintTable(ctx.out, t, ctx.output));
  if (!Raw(ctx.output)) ctx.out << all.records_size() << " records\n";
  return kExitOk;
}

absl::StatusOr<int> MethodologiesReload(Context& ctx, const Args&) {
  v1::ReloadMethodologiesRequest req;
  v1::ReloadMethodologiesResponse resp;
  PSTRACK_RETURN_IF_ERROR(
      ctx.client.Run([&](grpc::ClientContext* c) { return ctx.client.admin().ReloadMethodologies(c, req, &resp); }));
  if (ctx.output == Output::kJson) {
    PSTRACK_RETURN_IF_ERROR(PrintJson(ctx.out, resp));
  } else {
    ctx.out << "reloaded " << resp.methodology_ids_size() << " methodologies ("
            << absl::StrJoin(resp.methodology_ids(), ", ") << "); default " << resp.default_id() << "\n";
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AccessCommands() {
  return {
      {.words = {"whoami"}, .group = kGroup, .summary = "the identity, role and scope the server sees", .run = WhoAmI},
      {.words = {"key", "create"},
       .alias = "keys",
       .group = kGroup,
       .synopsis = "--name TEXT --role centre|analyst|admin [--scope CODE] [--certificate_subject CN] "
                   "[--certificate_only] [--rate N]",
       .summary = "a new API key; prints the token once",
       .options = {StringOption("name", "TEXT", "Who holds the key"),
                   StringOption("role", "ROLE", "centre, analyst or admin (required)"),
                   StringOption("scope", "CODE",
                                "The agency whose subtree the key is limited to (required for centres; analysts "
                                "without one see the whole country)"),
                   StringOption("certificate_subject", "CN", "Client-certificate name that stands for the key"),
                   BoolOption("certificate_only", "No secret: the certificate alone identifies the caller"),
                   DoubleOption("rate", "N", "Requests per second (0 = the server's default)")},
       .run = KeyCreate},
      {.words = {"key", "list"},
       .alias = "keys",
       .group = kGroup,
       .synopsis = "[--all] [--role R]",
       .summary = "keys (never their secrets)",
       .options = {BoolOption("all", "Include revoked keys"), StringOption("role", "ROLE", "Only this role")},
       .formats = Formats::kJsonCsv,
       .run = KeyList},
      {.words = {"key", "revoke"},
       .alias = "keys",
       .group = kGroup,
       .positionals = {"KEY_ID"},
       .summary = "revokes a key; takes effect at once",
       .run = KeyRevoke},
      {.words = {"audit", "list"},
       .group = kGroup,
       .synopsis = "[--principal KEY_ID] [--method NAME] [--failures] [--limit N]",
       .summary = "writes and admin actions, newest first",
       .options = {StringOption("principal", "KEY_ID", "Only this key id"),
                   StringOption("method", "NAME", "Only this method (e.g. RecordEvents)"),
                   BoolOption("failures", "Only refused or failed calls"),
                   LimitOption("Stop after this many records (0 = 100)")},
       .formats = Formats::kJsonCsv,
       .run = AuditList},
      {.words = {"methodologies", "reload"},
       .group = kGroup,
       .summary = "re-reads the server's methodology files",
       .run = MethodologiesReload},
  };
}

}  // namespace pstrack::cli
