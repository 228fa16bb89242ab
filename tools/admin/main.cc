// pstrack-admin: offline administration of a pstrack database.
//   pstrack-admin copy --from sqlite:var/pstrack.db --to postgresql://user@host/db
//   pstrack-admin create-key --db URL --role admin --name "Ops team" [--out FILE]
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "services/common/usage.h"
#include "services/admin/copy_database.h"
#include "services/calendar/working_calendar.h"
#include "services/security/access_control.h"
#include "storage/store.h"

ABSL_FLAG(std::string, from, "", "copy: source database URL (e.g. sqlite:var/pstrack.db)");
ABSL_FLAG(std::string, to, "", "copy: target database URL, empty (e.g. postgresql://pstrack@127.0.0.1:5432/pstrack)");
ABSL_FLAG(std::string, calendar_dir, "data/calendar", "copy: working-day calendars used to derive the dossiers' state");
ABSL_FLAG(std::string, db, "", "create-key: database URL (the server's --db)");
ABSL_FLAG(std::string, role, "admin", "create-key: centre, analyst or admin");
ABSL_FLAG(std::string, name, "", "create-key: who holds the key");
ABSL_FLAG(std::string, scope, "", "create-key: agency code of the key's scope (required for centres)");
ABSL_FLAG(std::string, certificate_subject, "", "create-key: client-certificate name that stands for the key");
ABSL_FLAG(std::string, out, "", "create-key: write the token to this file (mode 0600) instead of standard output");
ABSL_FLAG(bool, if_no_admin, false, "create-key: do nothing when an admin key already exists (for setup scripts)");

namespace {

constexpr char kUsage[] =
    "usage:\n"
    "  pstrack-admin copy --from URL --to URL [--calendar_dir DIR]\n"
    "      copies a whole pstrack database (agencies, catalog, external inputs, dossier events, keys are not\n"
    "      copied) into an empty one, deriving dossiers and aggregates there; stop the servers writing to the\n"
    "      source first\n"
    "  pstrack-admin create-key --db URL --name TEXT [--role admin] [--scope CODE] [--out FILE] [--if_no_admin]\n"
    "      creates an API key directly in the database (the first admin key of a new installation)\n";

int Copy() {
  if (absl::GetFlag(FLAGS_from).empty() || absl::GetFlag(FLAGS_to).empty()) {
    std::cerr << kUsage;
    return 2;
  }
  auto calendar = pstrack::WorkingCalendar::LoadDirectory(absl::GetFlag(FLAGS_calendar_dir));
  if (!calendar.ok()) {
    std::cerr << "pstrack-admin: " << calendar.status().message() << "\n";
    return 1;
  }
  auto from = pstrack::OpenStore(absl::GetFlag(FLAGS_from));
  if (!from.ok()) {
    std::cerr << "pstrack-admin: from: " << from.status().message() << "\n";
    return 1;
  }
  auto to = pstrack::OpenStore(absl::GetFlag(FLAGS_to));
  if (!to.ok()) {
    std::cerr << "pstrack-admin: to: " << to.status().message() << "\n";
    return 1;
  }
  auto report = pstrack::CopyDatabase(**from, **to,
                                      std::make_shared<const pstrack::WorkingCalendar>(*std::move(calendar)),
                                      [](int64_t events) { std::cerr << "\r" << events << " events copied" << std::flush; });
  std::cerr << "\n";
  if (!report.ok()) {
    std::cerr << "pstrack-admin: " << report.status().message() << "\n";
    return 1;
  }
  std::cout << "copied " << report->agencies << " agencies, " << report->procedures << " procedures, "
            << report->external_inputs << " external inputs, " << report->dossiers << " dossiers, "
            << report->events << " events, " << report->api_keys << " API keys (revoked ones included)\n";
  return 0;
}

int CreateKey() {
  if (absl::GetFlag(FLAGS_db).empty()) {
    std::cerr << kUsage;
    return 2;
  }
  auto role = pstrack::ParseRole(absl::GetFlag(FLAGS_role), "--role");
  if (!role.ok()) {
    std::cerr << "pstrack-admin: " << role.status().message() << "\n";
    return 2;
  }
  auto store = pstrack::OpenStore(absl::GetFlag(FLAGS_db));
  if (!store.ok()) {
    std::cerr << "pstrack-admin: " << store.status().message() << "\n";
    return 1;
  }
  pstrack::AccessControl access(**store, {});
  if (absl::GetFlag(FLAGS_if_no_admin)) {
    auto has = access.HasActiveAdmin();
    if (has.ok() && *has) {
      std::cerr << "pstrack-admin: an admin key exists already; nothing created\n";
      return 0;
    }
  }
  pstrack::ApiKeyRecord key;
  key.name = absl::GetFlag(FLAGS_name);
  key.role = *role;
  key.scope_agency_code = absl::GetFlag(FLAGS_scope);
  key.certificate_subject = absl::GetFlag(FLAGS_certificate_subject);
  auto created = access.CreateKey(key, "pstrack-admin");
  if (!created.ok()) {
    std::cerr << "pstrack-admin: " << created.status().message() << "\n";
    return 1;
  }
  pstrack::AuditRow audit;
  audit.at_us = created->first.create_us;
  audit.principal = "pstrack-admin";
  audit.role = static_cast<int>(pstrack::Role::kAdmin);
  audit.method = "pstrack-admin/create-key";
  audit.target = "key " + created->first.key_id + " (" + std::string(pstrack::RoleName(created->first.role)) +
                 ", '" + created->first.name + "')";
  audit.peer = "local";
  (void)access.Audit(audit);
  const std::string& out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::cout << created->second << "\n";
  } else {
    const mode_t old_mask = umask(077);
    std::ofstream file(out, std::ios::trunc);
    file << created->second << "\n";
    file.close();
    umask(old_mask);
    chmod(out.c_str(), 0600);
    if (!file) {
      std::cerr << "pstrack-admin: cannot write " << out << "\n";
      return 1;
    }
  }
  std::cerr << "created " << pstrack::RoleName(created->first.role) << " key " << created->first.key_id << " for '"
            << created->first.name << "'" << (out.empty() ? "" : " (token in " + out + ")") << "\n";
  (*store)->Close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  pstrack::SetUpUsage("pstrack-admin", "tools/admin/main.cc");
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string command = args.size() == 2 ? args[1] : "";
  if (command == "copy") return Copy();
  if (command == "create-key") return CreateKey();
  std::cerr << kUsage;
  return 2;
}
