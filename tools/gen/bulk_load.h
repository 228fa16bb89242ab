// Bulk loading of generated dossiers into a new database, for benchmark
// databases too large to build through the API in reasonable time (10M
// dossiers: 66M events). Each dossier's whole history is replayed in memory
// and written with the functions of the server's write path (Replay,
// ToDossierRow, AccumulateDossier), so the dossier index and the aggregates
// are those that recording the same events through Filings would write
// (GeneratorStoreTest.BulkLoadWritesWhatTheWritePathWrites); what it skips
// is the per-batch work of a live feed: looking for stored events of the
// dossiers, duplicates, the feed log.
#ifndef PSTRACK_TOOLS_GEN_BULK_LOAD_H_
#define PSTRACK_TOOLS_GEN_BULK_LOAD_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "services/calendar/working_calendar.h"
#include "storage/store.h"
#include "tools/gen/generator.h"

namespace pstrack::gen {

struct BulkLoadOptions {
  // Without the events themselves (the event log is most of a database and
  // no indicator reads it): a dossier index and aggregates only.
  bool with_events = true;
  // Dossiers per transaction; their aggregate contributions are merged in
  // memory first (about 1 GiB per 100,000 dossiers at the peak).
  int64_t per_transaction = 50000;
  // Called after each transaction with the dossiers loaded so far.
  std::function<void(int64_t dossiers, int64_t events)> progress;
};

// Loads dossiers [0, options.dossiers) of the generated data set into
// `store`, whose agencies and procedures are `world`'s and which holds none
// of these dossiers yet. FAILED_PRECONDITION if a generated history does
// not replay (a generator bug).
absl::Status BulkLoad(Store& store, const GenOptions& options, const World& world,
                      std::shared_ptr<const WorkingCalendar> calendar, const BulkLoadOptions& bulk);

}  // namespace pstrack::gen

#endif  // PSTRACK_TOOLS_GEN_BULK_LOAD_H_
