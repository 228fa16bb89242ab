// pstrack-admin: offline administration of a pstrack database.
//   pstrack-admin copy --from sqlite:var/pstrack.db --to postgresql://user@host/db
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "services/admin/copy_database.h"
#include "services/calendar/working_calendar.h"

ABSL_FLAG(std::string, from, "", "Source database URL (e.g. sqlite:var/pstrack.db)");
ABSL_FLAG(std::string, to, "", "Target database URL, empty (e.g. postgresql://pstrack@127.0.0.1:5432/pstrack)");
ABSL_FLAG(std::string, calendar_dir, "data/calendar", "Working-day calendars used to derive the dossiers' state");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "pstrack-admin copy --from URL --to URL: copies a whole pstrack database (agencies, catalog, external "
      "inputs, dossier events) into an empty one, deriving dossiers and aggregates there. Stop the servers "
      "writing to the source first.");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2 || std::string(args[1]) != "copy" || absl::GetFlag(FLAGS_from).empty() ||
      absl::GetFlag(FLAGS_to).empty()) {
    std::cerr << "usage: pstrack-admin copy --from URL --to URL [--calendar_dir DIR]\n";
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
            << report->events << " events\n";
  return 0;
}
