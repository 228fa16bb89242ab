// pstrack-gen: writes a realistic national data set for benchmarks, the same
// for the same options (see generator.h):
//   pstrack-gen --out DIR --dossiers N --seed S [--year 2025] [--procedures 2000]
// DIR/agencies.csv and DIR/procedures.csv are what `pstrack agency import`
// and `pstrack procedure import` read; DIR/events.csv is what `pstrack event
// send` reads. Events are written dossier by dossier, never all held in memory.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "services/common/usage.h"
#include "tools/gen/generator.h"

ABSL_FLAG(std::string, out, "",
          "directory to write agencies.csv, procedures.csv and events.csv into (created if missing)");
ABSL_FLAG(int64_t, dossiers, 100000, "number of dossiers");
ABSL_FLAG(uint64_t, seed, 20251126, "the same seed gives the same files");
ABSL_FLAG(int, year, 2025, "dossiers are received on the working days of this year");
ABSL_FLAG(int, procedures, 2000, "number of procedures in the catalog");
ABSL_FLAG(std::string, calendar_dir, "data/calendar",
          "working-day calendars, the server's --calendar_dir (outcomes are planned with them); empty: the rules only");

namespace {

bool WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) std::cerr << "pstrack-gen: cannot write " << path.string() << "\n";
  return static_cast<bool>(f);
}

double Percent(int64_t part, int64_t whole) {
  return whole == 0 ? 0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

int main(int argc, char** argv) {
  pstrack::SetUpUsage("pstrack-gen", "tools/gen/main.cc");
  absl::SetProgramUsageMessage(
      "writes a realistic national data set: pstrack-gen --out DIR --dossiers N --seed S [--year 2025] "
      "[--procedures 2000] [--calendar_dir data/calendar]");
  absl::ParseCommandLine(argc, argv);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::cerr << "pstrack-gen: --out DIR is required\n";
    return 2;
  }
  pstrack::gen::GenOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.dossiers = absl::GetFlag(FLAGS_dossiers);
  options.year = absl::GetFlag(FLAGS_year);
  options.procedures = absl::GetFlag(FLAGS_procedures);
  if (auto valid = pstrack::gen::ValidateOptions(options); !valid.ok()) {
    std::cerr << "pstrack-gen: --" << valid.message() << "\n";
    return 2;
  }
  if (const std::string dir = absl::GetFlag(FLAGS_calendar_dir); !dir.empty()) {
    auto calendar = pstrack::WorkingCalendar::LoadDirectory(dir);
    if (!calendar.ok()) {
      std::cerr << "pstrack-gen: " << calendar.status().message() << " (--calendar_dir)\n";
      return 1;
    }
    options.calendar = std::make_shared<const pstrack::WorkingCalendar>(*std::move(calendar));
  }
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) {
    std::cerr << "pstrack-gen: cannot create " << out << ": " << ec.message() << "\n";
    return 1;
  }
  const absl::Time start = absl::Now();
  const pstrack::gen::World world = pstrack::gen::MakeWorld(options);
  const std::filesystem::path dir(out);
  if (!WriteFile(dir / "agencies.csv", pstrack::gen::AgencyCsv(world.agencies)) ||
      !WriteFile(dir / "procedures.csv", pstrack::gen::ProcedureCsv(world.procedures))) {
    return 1;
  }
  std::ofstream events(dir / "events.csv", std::ios::binary | std::ios::trunc);
  std::string buffer = pstrack::gen::kEventCsvHeader;
  std::vector<pstrack::FilingEvent> batch;
  pstrack::gen::GenTotals totals;
  for (int64_t i = 0; i < options.dossiers; ++i) {
    batch.clear();
    pstrack::gen::DossierEvents(options, world, i, &batch, &totals);
    for (const auto& e : batch) pstrack::gen::AppendEventCsv(e, &buffer);
    if (buffer.size() >= (4 << 20)) {
      events.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  events.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  events.close();
  if (!events) {
    std::cerr << "pstrack-gen: cannot write " << (dir / "events.csv").string() << "\n";
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cout << absl::StrFormat(
      "pstrack-gen: %d agencies, %d procedures, %d dossiers, %d events in %s (received online %.1f%%, late %.1f%% of "
      "resolved, supplement %.1f%%, withdrawn %.1f%%, not accepted %.1f%%) in %.1f s, %.0f events/s\n",
      world.agencies.size(), world.procedures.size(), totals.dossiers, totals.events, out,
      Percent(totals.online, totals.received), Percent(totals.late, totals.resolved),
      Percent(totals.supplemented, totals.received), Percent(totals.withdrawn, totals.dossiers),
      Percent(totals.not_accepted, totals.dossiers), seconds,
      seconds > 0 ? static_cast<double>(totals.events) / seconds : 0);
  return 0;
}
