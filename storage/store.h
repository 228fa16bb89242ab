// The store: what runs a use case's transactions. Each use case defines
// the narrow interfaces it reads and writes through beside itself
// (services/*/..._store.h); a store's transactions implement them all, so a
// Store converts to every use case's handle (services/common/transactions.h).
// Only the wiring (services/server, services/admin), tools/ and tests/
// include this file. Backends: SQLite (embedded default) and PostgreSQL.
//
// Threading: a Store is shared by all RPC threads. Read() may run
// concurrently with other reads and with one Write(); Write() calls are
// serialised (SQLite allows one writer). A transaction object must be used
// only inside the callback that received it.
#ifndef PSTRACK_STORAGE_STORE_H_
#define PSTRACK_STORAGE_STORE_H_

#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/agencies/agency_store.h"
#include "services/catalog/catalog_store.h"
#include "services/filings/filing_store.h"
#include "services/metrics/metrics_store.h"
#include "services/reports/reports_store.h"
#include "services/security/security_store.h"

namespace pstrack {

// A store's transactions: the sum of every use case's interfaces (each
// defined beside its use case), so that a Store converts to each use case's
// Transactions handle.
class ReadTransaction : public virtual MetricsReader, public virtual ReportsReader, public virtual SecurityReader {};

class WriteTransaction : public ReadTransaction,
                         public virtual AgencyWriter,
                         public virtual CatalogWriter,
                         public virtual SecurityWriter,
                         public virtual FilingWriter,
                         public virtual MetricsWriter,
                         public virtual ReportsWriter {};

// The whole transaction behind one of its interfaces. A use case's hook
// (AgencyRegistry's SubtreeMovedHook, Catalog's ProcedureChangedHook) gets
// the narrow writer of its use case; the wiring, which opened the
// transaction on a Store, widens it to keep derived data (dossiers,
// aggregates) in step in the same transaction.
inline WriteTransaction& WholeTransaction(TransactionControl& tx) { return dynamic_cast<WriteTransaction&>(tx); }

struct StoreOptions {
  // Readers that may run at once (SQLite: separate connections in WAL mode).
  int read_connections = 4;
  // SQLite page cache of the writing connection (MiB).
  int writer_cache_mib = 64;
  // SQLite page cache of each reading connection (MiB). A ranking reads
  // some 60,000 aggregate rows (15 MiB of pages); with SQLite's 2 MiB
  // default they were read again from the OS cache each time (a sixth of
  // its time in pread).
  int reader_cache_mib = 16;
  // SQLite: the commit that takes the write-ahead log past this (MiB) runs
  // a blocking checkpoint and truncates the log before it returns (writers
  // wait; a reader older than the busy timeout defers it to the next
  // commit). Passive checkpoints alone never catch up under sustained
  // writing: a 10M-dossier load grew the log to 50 GB.
  int wal_limit_mib = 256;
  // SQLite: how far the log may grow while a long snapshot lasts (MiB; 0 =
  // no limit) before its holder gives up (Store::LongSnapshotGrowth).
  int long_snapshot_wal_mib = 8192;
  // How long a connection waits for a lock before failing (SQLite busy timeout).
  int busy_timeout_ms = 5000;
  // SQLite: the size the database file may reach (MiB; 0 = as large as the
  // disk allows). A write past it is refused like one on a full disk
  // (RESOURCE_EXHAUSTED), leaving room on the volume for everything else.
  int max_database_mib = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a read-only snapshot.
  virtual absl::Status Read(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) = 0;
  // The same for a snapshot held for minutes (the aggregate check): writers
  // go on; on a SQLite file the write-ahead log is not truncated while it
  // lasts (a truncation would wait for it, and stall every commit), so the
  // log grows by what is written meanwhile and is truncated after.
  virtual absl::Status ReadLongSnapshot(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) { return Read(fn); }
  // Whether a long snapshot may go on: on a SQLite file, RESOURCE_EXHAUSTED
  // once the log has grown past StoreOptions::long_snapshot_wal_mib (the
  // holder gives up, so the disk does not fill under the writers). Cheap:
  // call it every page.
  virtual absl::Status LongSnapshotGrowth() const { return absl::OkStatus(); }
  // Runs `fn` in a write transaction: committed if `fn` returns OK, rolled
  // back otherwise. Returns after the commit is durable.
  absl::Status Write(absl::FunctionRef<absl::Status(WriteTransaction&)> fn) {
    return Write(fn, [] {});
  }
  // The same, and calls `released` once the transaction has ended and the
  // write lock is free, before the wait for the commit to be durable (on a
  // SQLite file the log is flushed outside the lock). A group commit hands
  // the lock to its next group there: that group's transaction then runs
  // while this one's log is flushed, instead of after.
  virtual absl::Status Write(absl::FunctionRef<absl::Status(WriteTransaction&)> fn,
                             absl::FunctionRef<void()> released) = 0;

  // Runs `fn` in a write transaction beside the others: on PostgreSQL on a
  // connection of its own, so that background work (the projection)
  // neither waits for the writers' turn nor holds it up, the database
  // serialising what they share; on a SQLite file, which has one writer,
  // the same as Write.
  virtual absl::Status WriteBeside(absl::FunctionRef<absl::Status(WriteTransaction&)> fn) { return Write(fn); }

  // Bytes on disk, -1 where unknown: the database (a SQLite file, or
  // PostgreSQL's pg_database_size) and SQLite's write-ahead log. For the
  // metrics; cheap (a stat, or one query).
  struct DiskUsage {
    int64_t database_bytes = -1;
    int64_t wal_bytes = -1;
  };
  virtual DiskUsage disk_usage() { return {}; }

  // "sqlite" or "postgresql".
  virtual absl::string_view backend() const = 0;
  virtual int schema_version() const = 0;
  // Closes every connection; later calls fail with UNAVAILABLE.
  virtual void Close() = 0;
};

// Opens the database named by `url` and brings its schema up to date:
//   sqlite:///abs/path.db, sqlite:relative/path.db, a bare file path,
//   postgresql://user@host:port/dbname (also postgres://).
// A database whose schema is newer than this build is refused with
// FAILED_PRECONDITION.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url,
                                                 const StoreOptions& options = {});

// The newest schema version this build knows.
int LatestSchemaVersion();

}  // namespace pstrack

#endif  // PSTRACK_STORAGE_STORE_H_
