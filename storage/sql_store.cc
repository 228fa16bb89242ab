// SOCI implementation of Store for SQLite and PostgreSQL. Everything SOCI
// touches stays in this file.
#include <array>
#include <atomic>
#include <bit>
#include <cstring>
#include <deque>
#include <map>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <variant>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/call_limits.h"
#include "services/common/ceilings.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "soci/postgresql/soci-postgresql.h"
#include "soci/soci.h"
#include "soci/sqlite3/soci-sqlite3.h"
#include "storage/database_url.h"
#include "storage/durable_log.h"
#include "storage/private_file.h"
#include "storage/migrations.h"
#include "storage/sql/postgres_dialect.h"
#include "storage/sql/sqlite_dialect.h"
#include "storage/sql_transaction.h"
#include "storage/store.h"

namespace pstrack {
namespace {

using namespace sqlite_api;  // NOLINT(build/namespaces)
using Backend = DatabaseUrl::Backend;
using sql::DatabaseError;
using sql::Dialect;
using sql::SqlTransaction;
using sql::ToMicros;


// A fixed set of sessions handed out one at a time.
class SessionPool {
 public:
  void Add(std::unique_ptr<soci::session> s) {
    absl::MutexLock lock(&mu_);
    free_.push_back(s.get());
    all_.push_back(std::move(s));
  }
  soci::session* Acquire() {
    absl::MutexLock lock(&mu_);
    while (free_.empty() && !closed_) cv_.Wait(&mu_);
    if (closed_) return nullptr;
    soci::session* s = free_.back();
    free_.pop_back();
    return s;
  }
  void Release(soci::session* s) {
    {
      absl::MutexLock lock(&mu_);
      free_.push_back(s);
    }
    cv_.Signal();
  }
  // Waits for every session to come back, runs `before_close`, then closes
  // them.
  void Close(absl::FunctionRef<void()> before_close) {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    cv_.SignalAll();
    while (free_.size() != all_.size()) drained_.Wait(&mu_);
    before_close();
    for (auto& s : all_) s->close();
  }
  void NotifyReturned() { drained_.SignalAll(); }

 private:
  absl::Mutex mu_;
  absl::CondVar cv_, drained_;
  std::vector<std::unique_ptr<soci::session>> all_ ABSL_GUARDED_BY(mu_);
  std::vector<soci::session*> free_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

class SqlStore : public Store {
 public:
  SqlStore(DatabaseUrl url, StoreOptions options) : url_(std::move(url)), options_(options) {}
  ~SqlStore() override { Close(); }

  absl::Status Open() {
    try {
      writer_ = Connect();
      writer_dialect_ = MakeDialect(*writer_);
      bool shared = url_.backend == Backend::kSqlite && url_.target == ":memory:";
      int readers = shared ? 0 : std::max(1, options_.read_connections);
      for (int i = 0; i < readers; ++i) {
        std::unique_ptr<soci::session> reader = Connect();
        if (url_.backend == Backend::kSqlite) {
          *reader << "PRAGMA cache_size = " << -int64_t{options_.reader_cache_mib} * 1024;
        }
        reader_dialects_[reader.get()] = MakeDialect(*reader);
        readers_.Add(std::move(reader));
      }
      share_writer_for_reads_ = readers == 0;
      if (url_.backend == Backend::kPostgresql) {
        absl::MutexLock lock(&beside_mu_);
        beside_ = Connect();
        beside_dialect_ = MakeDialect(*beside_);
      }
      if (url_.backend == Backend::kSqlite && !shared) {
        // Checkpoints move the WAL into the database file. SQLite runs them
        // inside the commit that crosses 1,000 pages, which made every
        // thirtieth commit slow; a thread of its own does it instead.
        *writer_ << "PRAGMA wal_autocheckpoint = 0";
        // Past the limit, the commit that crosses it empties the log before
        // it returns (writers wait). Left to the background thread, a
        // truncation never got the write lock between back-to-back
        // transactions: a bulk load's log reached 1.5 GB over a 256 MiB
        // limit. (Set after wal_autocheckpoint, which replaces the hook.)
        *writer_ << "PRAGMA page_size", soci::into(page_size_);
        sqlite3_wal_hook(
            static_cast<soci::sqlite3_session_backend*>(writer_->get_backend())->conn_,
            [](void* self, sqlite3* db, const char* name, int frames) -> int {
              auto* store = static_cast<SqlStore*>(self);
              store->wal_frames_.store(frames, std::memory_order_relaxed);
              if (store->OverWalLimit(frames)) {
                // After the commit, its lock released: SQLite allows a
                // checkpoint here. Busy (a long reader): the next commit
                // tries again, and the background thread meanwhile. The
                // background thread's own checkpoint is waited for first:
                // a second one at once fails without waiting (SQLITE_BUSY)
                // and left the log past its limit.
                absl::MutexLock lock(&store->checkpoint_mu_);
                sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
              }
              return SQLITE_OK;
            },
            this);
        // A batch touches thousands of aggregate pages; with SQLite's 2 MiB
        // default cache they spill to the WAL mid-transaction and are read
        // back (a third of ingestion time was pread/pwrite).
        *writer_ << "PRAGMA cache_size = " << -int64_t{options_.writer_cache_mib} * 1024;
        checkpointer_session_ = Connect();
        checkpointer_ = std::thread([this] { CheckpointLoop(); });
      }
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("cannot open database ", Describe(), ": ", e.what()));
    }
    PSTRACK_RETURN_IF_ERROR(Migrate());
    if (checkpointer_session_ != nullptr) {  // a SQLite file
      // From here on (migrations committed with FULL), commits skip their
      // fsync (synchronous=NORMAL; SQLite still flushes the log before each
      // checkpoint) and Write flushes the log after releasing the write
      // lock, before it returns: every acknowledged write is as durable as
      // with FULL, and the next transaction runs while the log is flushed
      // (DurableLog). Only the writer's commits.
      try {
        *writer_ << "PRAGMA synchronous = NORMAL";
      } catch (const std::exception& e) {
        return absl::UnavailableError(absl::StrCat("cannot open database ", Describe(), ": ", e.what()));
      }
      sqlite3* db = static_cast<soci::sqlite3_session_backend*>(writer_->get_backend())->conn_;
      durable_log_ = std::make_unique<DurableLog>(
          DurableLog::FileFlush(sqlite3_filename_wal(sqlite3_db_filename(db, "main"))));
    }
    return absl::OkStatus();
  }

  absl::Status Read(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) override {
    if (share_writer_for_reads_) {
      absl::MutexLock lock(&write_mu_);
      if (closed_) return Closed();
      return RunInTransaction(*writer_, writer_dialect_, /*write=*/false, [&](SqlTransaction& tx) { return fn(tx); });
    }
    soci::session* s = readers_.Acquire();
    if (s == nullptr) return Closed();
    absl::Status status =
        RunInTransaction(*s, reader_dialects_.at(s), /*write=*/false, [&](SqlTransaction& tx) { return fn(tx); });
    readers_.Release(s);
    readers_.NotifyReturned();
    return status;
  }

  DiskUsage disk_usage() override {
    DiskUsage usage;
    if (url_.backend == Backend::kSqlite) {
      std::error_code ec;
      const auto main = std::filesystem::file_size(url_.target, ec);
      if (!ec) usage.database_bytes = static_cast<int64_t>(main);
      const auto wal = std::filesystem::file_size(url_.target + "-wal", ec);
      usage.wal_bytes = ec ? 0 : static_cast<int64_t>(wal);
      return usage;
    }
    soci::session* s = readers_.Acquire();
    if (s == nullptr) return usage;
    try {
      long long bytes = -1;
      *s << "SELECT pg_database_size(current_database())", soci::into(bytes);
      usage.database_bytes = bytes;
    } catch (const std::exception&) {
      // A broken connection: the next transaction on it opens it again.
    }
    readers_.Release(s);
    readers_.NotifyReturned();
    return usage;
  }

  absl::Status LongSnapshotGrowth() const override {
    if (url_.backend != Backend::kSqlite || options_.long_snapshot_wal_mib <= 0) return absl::OkStatus();
    const int64_t grown = wal_frames_.load(std::memory_order_relaxed) - snapshot_wal_frames_.load();
    const int64_t mib = (std::max<int64_t>(0, grown) * page_size_) >> 20;
    if (mib <= options_.long_snapshot_wal_mib) return absl::OkStatus();
    return absl::ResourceExhaustedError(absl::StrCat(
        "the write-ahead log has grown by ", mib, " MiB while this snapshot is held (limit ",
        options_.long_snapshot_wal_mib,
        " MiB, --long_snapshot_wal_mib): what was written since it began cannot be checkpointed until it ends. "
        "Run it at a quieter time or with a larger limit (the disk must hold the log), or on PostgreSQL"));
  }

  absl::Status ReadLongSnapshot(absl::FunctionRef<absl::Status(ReadTransaction&)> fn) override {
    if (long_snapshots_.fetch_add(1) == 0) snapshot_wal_frames_ = wal_frames_.load();
    absl::Status status = Read(fn);
    long_snapshots_.fetch_sub(1);
    return status;
  }

  using Store::Write;
  absl::Status Write(absl::FunctionRef<absl::Status(WriteTransaction&)> fn,
                     absl::FunctionRef<void()> released) override {
    absl::Status status;
    uint64_t ticket = 0;  // a commit whose log is still to be flushed
    {
      absl::MutexLock lock(&write_mu_);
      if (closed_) {
        status = Closed();
      } else {
        status = RunInTransaction(*writer_, writer_dialect_, /*write=*/true, [&](SqlTransaction& tx) { return fn(tx); });
        if (status.ok() && durable_log_ != nullptr) ticket = durable_log_->Committed();
      }
    }
    released();
    if (ticket != 0 && !CeilingOn(Ceiling::kNoDurableWait)) durable_log_->WaitDurable(ticket);
    return status;
  }

  absl::Status WriteBeside(absl::FunctionRef<absl::Status(WriteTransaction&)> fn) override {
    if (beside_ == nullptr) return Write(fn);
    absl::MutexLock lock(&beside_mu_);
    if (beside_closed_) return Closed();
    return RunInTransaction(*beside_, beside_dialect_, /*write=*/true, [&](SqlTransaction& tx) { return fn(tx); });
  }

  absl::string_view backend() const override {
    return url_.backend == Backend::kSqlite ? "sqlite" : "postgresql";
  }
  int schema_version() const override { return schema_version_; }

  void Close() override {
    if (checkpointer_.joinable()) {
      {
        absl::MutexLock lock(&checkpoint_mu_);
        stop_checkpoints_ = true;
      }
      checkpoint_cv_.SignalAll();
      checkpointer_.join();
      checkpointer_session_->close();
    }
    {
      absl::MutexLock lock(&write_mu_);
      if (closed_) return;
      closed_ = true;
      writer_dialect_.reset();  // its prepared statements finalized before the connection closes
      if (writer_) {
        try {
          if (url_.backend == Backend::kSqlite) *writer_ << "PRAGMA wal_checkpoint(TRUNCATE)";
        } catch (const std::exception& e) {
          LogWarning("checkpoint on close failed: ", e.what());
        }
        writer_->close();
      }
    }
    if (beside_ != nullptr) {
      absl::MutexLock lock(&beside_mu_);
      if (!beside_closed_) {
        beside_closed_ = true;
        beside_dialect_.reset();
        beside_->close();
      }
    }
    // Prepared statements are finalized before their connections close.
    if (!share_writer_for_reads_) readers_.Close([&] { reader_dialects_.clear(); });
  }

 private:
  static absl::Status Closed() { return absl::UnavailableError("the database is closed (server shutting down)"); }

  // Whether a write-ahead log of `frames` pages is past options_.wal_limit_mib.
  // Not while a long snapshot lasts (ReadLongSnapshot): the truncation
  // would wait for it, and the commits with it.
  bool OverWalLimit(int64_t frames) const {
    return long_snapshots_.load(std::memory_order_relaxed) == 0 &&
           frames * page_size_ > int64_t{options_.wal_limit_mib} << 20;
  }

  // Every 200 ms, a passive checkpoint: it copies what no reader still needs
  // and never blocks the writer or the readers. Under sustained writing it
  // may never finish before the next commit appends, and the log only
  // grows: the commit that takes it past options_.wal_limit_mib truncates it
  // (the writer's WAL hook, Open()). If a long reader made that fail and no
  // write follows, the TRUNCATE here retries it while the writer is idle.
  void CheckpointLoop() {
    absl::MutexLock lock(&checkpoint_mu_);
    while (true) {
      const absl::Time next = absl::Now() + absl::Milliseconds(200);
      while (!stop_checkpoints_ && !checkpoint_cv_.WaitWithDeadline(&checkpoint_mu_, next)) {
      }
      if (stop_checkpoints_) break;
      try {
        int busy = 0, log_frames = 0, checkpointed = 0;
        *checkpointer_session_ << "PRAGMA wal_checkpoint(PASSIVE)", soci::into(busy), soci::into(log_frames),
            soci::into(checkpointed);
        if (OverWalLimit(log_frames)) {
          *checkpointer_session_ << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(busy), soci::into(log_frames),
              soci::into(checkpointed);
          if (busy) {
            LogWarning("write-ahead log over ", options_.wal_limit_mib,
                       " MiB not truncated yet (a transaction or reader outlasted the busy timeout); retrying");
          }
        }
      } catch (const std::exception& e) {
        LogWarning("background checkpoint failed: ", e.what());
      }
    }
  }

  std::string Describe() const {
    return url_.backend == Backend::kSqlite ? absl::StrCat("sqlite file '", url_.target, "'")
                                            : std::string("postgresql server");
  }

  std::unique_ptr<soci::session> Connect() {
    auto s = std::make_unique<soci::session>();
    if (url_.backend == Backend::kSqlite) {
      if (absl::Status ready = PrepareSqliteFile(url_.target); !ready.ok()) {
        throw std::runtime_error(std::string(ready.message()));
      }
      s->open(soci::sqlite3, absl::StrCat("db=\"", url_.target, "\" timeout=",
                                          std::max(1, options_.busy_timeout_ms / 1000)));
      *s << "PRAGMA busy_timeout = " << options_.busy_timeout_ms;
      *s << "PRAGMA journal_mode = WAL";
      // FULL: a commit acknowledged to a client survives power loss.
      *s << "PRAGMA synchronous = FULL";
      *s << "PRAGMA foreign_keys = ON";
      if (options_.max_database_mib > 0) {
        int page_size = 0;
        *s << "PRAGMA page_size", soci::into(page_size);
        *s << "PRAGMA max_page_count = " << (int64_t{options_.max_database_mib} << 20) / std::max(512, page_size);
      }
      // Every 100,000 virtual-machine steps (about a millisecond) SQLite asks
      // whether the call being served has passed its deadline or been
      // cancelled; if so the statement stops with SQLITE_INTERRUPT (and the
      // transaction rolls back). Asking more often costs: a cancellation
      // check takes gRPC's call lock (it was 16% of a query's time at 4,000).
      auto* backend = static_cast<soci::sqlite3_session_backend*>(s->get_backend());
      sqlite3_progress_handler(
          backend->conn_, 100000, [](void*) -> int { return CheckCallLimits().ok() ? 0 : 1; }, nullptr);
    } else {
      s->open(soci::postgresql, url_.target);
      *s << "SET client_min_messages = WARNING";
    }
    return s;
  }

  // The dialect of one connection (its prepared statements live with it).
  std::unique_ptr<Dialect> MakeDialect(soci::session& session) const {
    if (url_.backend == Backend::kSqlite) return std::make_unique<sql::SqliteDialect>(session);
    return std::make_unique<sql::PostgresDialect>(session);
  }

  // PostgreSQL: whether `session` has lost its server (restarted, failed
  // over, or the network dropped it). libpq notices when a statement fails.
  bool Broken(soci::session& session) const {
    if (url_.backend != Backend::kPostgresql) return false;
    auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
    return backend == nullptr || backend->conn_ == nullptr || PQstatus(backend->conn_) != CONNECTION_OK;
  }

  // Opens a broken PostgreSQL connection again (the URL's hosts in turn, so
  // a multi-host URL with target_session_attrs=read-write finds the new
  // primary after a failover), with a new dialect: prepared statements die
  // with their connection.
  absl::Status Reconnect(soci::session& session, std::unique_ptr<Dialect>& dialect) {
    dialect.reset();
    try {
      session.reconnect();
      session << "SET client_min_messages = WARNING";
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("cannot reach the database (", Describe(),
                                                 "); retry shortly: ", absl::StripAsciiWhitespace(e.what())));
    }
    dialect = MakeDialect(session);
    LogInfo("reconnected to the database (", Describe(), ")");
    return absl::OkStatus();
  }

  // The status of a transaction whose connection broke under it: nothing of
  // it is stored, unless it broke during the commit, whose outcome is then
  // unknown; either way the same call again is safe (writes are idempotent).
  static absl::Status LostConnection(absl::string_view what, bool committing) {
    return absl::UnavailableError(absl::StrCat(
        "the connection to the database was lost (", absl::StripAsciiWhitespace(what), "); ",
        committing ? "the commit's outcome is unknown: send the same call again (it is idempotent)"
                   : "nothing of this call was stored: send it again"));
  }

  // Runs `fn` in a transaction on `session`. A PostgreSQL connection found
  // broken is opened again first; one that broke since its last use (its
  // BEGIN fails) is opened again and the transaction begun once more.
  template <typename Fn>
  absl::Status RunInTransaction(soci::session& session, std::unique_ptr<Dialect>& dialect, bool write, Fn&& fn) {
    PSTRACK_RETURN_IF_ERROR(CheckCallLimits());
    for (int attempt = 0;; ++attempt) {
      if (dialect == nullptr || Broken(session)) PSTRACK_RETURN_IF_ERROR(Reconnect(session, dialect));
      try {
        dialect->Begin(write, CurrentCallDeadline() - absl::Now());
        break;
      } catch (const std::exception& e) {
        if (Broken(session)) {
          if (attempt == 0) continue;
          return LostConnection(e.what(), /*committing=*/false);
        }
        absl::Status failed = DatabaseError(e);
        try {
          dialect->Rollback();
        } catch (const std::exception&) {
        }
        return failed;
      }
    }
    SqlTransaction tx(*dialect);
    absl::Status status;
    try {
      status = fn(tx);
    } catch (const std::exception& e) {
      status = DatabaseError(e);
    }
    if (!status.ok() && Broken(session)) status = LostConnection(status.message(), /*committing=*/false);
    try {
      if (status.ok() && write) {
        dialect->Commit();
      } else {
        dialect->Rollback();
      }
    } catch (const std::exception& e) {
      if (Broken(session)) return status.ok() ? LostConnection(e.what(), write) : status;
      absl::Status commit = DatabaseError(e);
      try {
        dialect->Rollback();
      } catch (const std::exception&) {
      }
      return status.ok() ? commit : status;
    }
    return status;
  }

  absl::Status Migrate() {
    const auto& migrations = AllMigrations();
    const int latest = migrations.back().version;
    std::string text_key = url_.backend == Backend::kPostgresql ? "TEXT COLLATE \"C\"" : "TEXT";
    std::string auto_id = url_.backend == Backend::kPostgresql ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
                                                               : "INTEGER PRIMARY KEY AUTOINCREMENT";
    try {
      // Several replicas may start at once on one PostgreSQL database: one
      // migrates, the others wait and then find nothing to do.
      if (url_.backend == Backend::kPostgresql) *writer_ << "SELECT pg_advisory_lock(766766)";
      *writer_ << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "description TEXT NOT NULL, applied_time_us BIGINT NOT NULL)";
      int current = 0;
      soci::indicator ind = soci::i_null;
      *writer_ << "SELECT MAX(version) FROM schema_migrations", soci::into(current, ind);
      if (ind != soci::i_ok) current = 0;
      if (current > latest) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the database ", Describe(), " has schema version ", current,
            ", newer than this pstrack build knows (", latest,
            "); run a pstrack-server at least as new as the one that last wrote it"));
      }
      for (const Migration& m : migrations) {
        if (m.version <= current) continue;
        absl::Status applied = RunInTransaction(*writer_, writer_dialect_, true, [&](SqlTransaction&) {
          for (std::string stmt : m.statements) {
            if (absl::StartsWith(stmt, kSqliteOnly)) {
              if (url_.backend != Backend::kSqlite) continue;
              stmt.erase(0, std::strlen(kSqliteOnly));
            }
            *writer_ << absl::StrReplaceAll(stmt, {{"{text_key}", text_key}, {"{auto_id}", auto_id}});
          }
          long long now = ToMicros(absl::Now());
          int version = m.version;
          std::string description = m.description;
          *writer_ << "INSERT INTO schema_migrations (version, description, applied_time_us) "
                      "VALUES (:v, :d, :t)",
              soci::use(version), soci::use(description), soci::use(now);
          return absl::OkStatus();
        });
        if (!applied.ok()) {
          return absl::Status(applied.code(), absl::StrCat("schema migration ", m.version, " (",
                                                           m.description, ") failed: ", applied.message()));
        }
        LogInfo("applied schema migration ", m.version, ": ", m.description);
      }
      schema_version_ = latest;
      if (url_.backend == Backend::kPostgresql) *writer_ << "SELECT pg_advisory_unlock(766766)";
    } catch (const std::exception& e) {
      return DatabaseError(e);
    }
    return absl::OkStatus();
  }

  DatabaseUrl url_;
  StoreOptions options_;
  int page_size_ = 4096;  // SQLite, read at open
  // Serialises the writer's transactions (SQLite has one writer) and Close.
  absl::Mutex write_mu_;
  std::unique_ptr<soci::session> writer_;
  // PostgreSQL: the connection of WriteBeside, with its own turn.
  absl::Mutex beside_mu_;
  std::unique_ptr<soci::session> beside_;
  std::unique_ptr<Dialect> beside_dialect_ ABSL_GUARDED_BY(beside_mu_);
  bool beside_closed_ ABSL_GUARDED_BY(beside_mu_) = false;
  SessionPool readers_;
  bool share_writer_for_reads_ = false;
  bool closed_ ABSL_GUARDED_BY(write_mu_) = false;
  int schema_version_ = 0;
  std::atomic<int> long_snapshots_{0};
  std::atomic<int64_t> wal_frames_{0};  // the write-ahead log's size after the latest commit
  std::atomic<int64_t> snapshot_wal_frames_{0};  // wal_frames_ when the first long snapshot began
  // The writer's dialect, and each reader's (filled in Open, read-only
  // afterwards).
  std::unique_ptr<Dialect> writer_dialect_;
  absl::flat_hash_map<soci::session*, std::unique_ptr<Dialect>> reader_dialects_;
  // SQLite files: flushes the log after the write lock is released.
  std::unique_ptr<DurableLog> durable_log_;
  std::unique_ptr<soci::session> checkpointer_session_;
  std::thread checkpointer_;
  absl::Mutex checkpoint_mu_;
  absl::CondVar checkpoint_cv_;
  bool stop_checkpoints_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
};

}  // namespace

int LatestSchemaVersion() { return AllMigrations().back().version; }

absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url, const StoreOptions& options) {
  // Each SQLite connection is used by one thread at a time (the writer under
  // its mutex, readers from the pool, the checkpointer alone), so SQLite's
  // own per-connection mutex is not needed: without it, every column read
  // no longer takes and releases a lock (a tenth of a ranking). Takes effect
  // only before the process's first connection.
  static const int multithread = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
  (void)multithread;
  PSTRACK_ASSIGN_OR_RETURN(DatabaseUrl parsed, ParseDatabaseUrl(url));
  auto store = std::make_unique<SqlStore>(std::move(parsed), options);
  PSTRACK_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace pstrack
