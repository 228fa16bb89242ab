// The SQLite store on a real file: migrations, refusal of newer schemas,
// durability across reopen, subtree ranges, savepoints, concurrency.
#include "storage/store.h"
#include "storage/database_url.h"
#include "services/common/status.h"
#include "services/security/access_control.h"
#include "services/figures/indicators.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <tuple>
#include <thread>

#include "gtest/gtest.h"
#include "tests/test_database.h"

namespace pstrack {
namespace {

using testing::MakeAgency;
using testing::TempDir;

std::unique_ptr<Store> OpenOrDie(const std::string& url) {
  auto store = OpenStore(url);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

Agency WithPath(Agency a, std::string path, int depth) {
  a.path = std::move(path);
  a.depth = depth;
  a.revision = 1;
  return a;
}

absl::Status InsertTree(Store& store) {
  return store.Write([](WriteTransaction& tx) -> absl::Status {
    for (const Agency& a : {WithPath(MakeAgency("VN", AgencyLevel::kNation, ""), "VN", 0),
                            WithPath(MakeAgency("P22", AgencyLevel::kProvince, "VN"), "VN/P22", 1),
                            WithPath(MakeAgency("P22-X", AgencyLevel::kProvince, "VN"), "VN/P22-X", 1),
                            WithPath(MakeAgency("P220", AgencyLevel::kProvince, "VN"), "VN/P220", 1),
                            WithPath(MakeAgency("P22.STP", AgencyLevel::kDepartment, "P22"), "VN/P22/P22.STP", 2),
                            WithPath(MakeAgency("P22_A", AgencyLevel::kCommune, "P22"), "VN/P22/P22_A", 2)}) {
      absl::Status s = tx.InsertAgency(a);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

// A batch's lookups in a few statements: the codes that exist, whatever
// their number (more than one statement's worth here).
TEST(SqlStoreTest, FindAgenciesReturnsThoseThatExistAmongManyCodes) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "many.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(InsertTree(*store).ok());
  std::vector<std::string> codes;
  for (int i = 0; i < 7000; ++i) codes.push_back("NOPE" + std::to_string(i));
  codes.push_back("P22_A");
  codes.insert(codes.begin() + 3500, "P22");
  codes.insert(codes.begin(), "VN");
  std::vector<Agency> found;
  std::vector<Procedure> procedures;
  ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(found, tx.FindAgencies(codes));
    PSTRACK_ASSIGN_OR_RETURN(procedures, tx.FindProcedures(codes));
    return absl::OkStatus();
  }).ok());
  std::set<std::string> names;
  for (const Agency& a : found) names.insert(a.code);
  EXPECT_EQ(names, (std::set<std::string>{"P22", "P22_A", "VN"}));
  EXPECT_EQ(found.size(), 3u);
  for (const Agency& a : found) {
    if (a.code == "P22_A") {
      EXPECT_EQ(a.path, "VN/P22/P22_A");
    }
  }
  EXPECT_TRUE(procedures.empty());
}

// Keys are sent to PostgreSQL as array literals: any character of a code or
// a field name must come back as it was, and the counts with it.
TEST(SqlStoreTest, AggregateKeysWithAnyCharactersComeBackAsTheyWere) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "keys.db"));
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> values = {"",        "plain",       "with space", "a,b",       "{brace}",
                                           "q\"uote", "back\\slash", "NULL",       "Đất đai", "'single'"};
  std::map<AggregateKey, int64_t> expected;
  for (int round = 0; round < 2; ++round) {  // the second round adds to the first
    std::vector<AggregateRow> rows;
    for (size_t i = 0; i < values.size(); ++i) {
      for (AggregateDim dim : {AggregateDim::kField, AggregateDim::kProcedure}) {
        AggregateRow r;
        r.key = AggregateKey{values[(i + 3) % values.size()] + "N", Basis::kReceipt, dim, values[i], "2025-06-02"};
        r.counts[static_cast<int>(Counter::kReceived)] = static_cast<int64_t>(i + 1);
        r.counts[static_cast<int>(Counter::kPaidOnline)] = round;
        rows.push_back(r);
        expected[r.key] += static_cast<int64_t>(i + 1);
      }
    }
    ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.AddAggregates(rows); }).ok());
  }
  std::vector<AggregateRow> all;
  ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(all, tx.AllAggregates());
    return absl::OkStatus();
  }).ok());
  std::map<AggregateKey, int64_t> found;
  for (const AggregateRow& r : all) {
    if (r.key.dim == AggregateDim::kTotal) continue;  // change-count rows
    found[r.key] = r.counts[static_cast<int>(Counter::kReceived)];
    EXPECT_EQ(r.counts[static_cast<int>(Counter::kPaidOnline)], 1) << r.key.dim_value;
  }
  EXPECT_EQ(found, expected);
}

TEST(SqlStoreTest, AppliesMigrationsAndReportsVersion) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "a.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->backend(), testing::TestingPostgres() ? "postgresql" : "sqlite");
  EXPECT_EQ(store->schema_version(), LatestSchemaVersion());
  // Reopening applies nothing twice.
  store->Close();
  auto again = OpenOrDie(testing::TestDatabaseUrl(dir, "a.db"));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->schema_version(), LatestSchemaVersion());
}

TEST(SqlStoreTest, CreatesMissingDataDirectory) {
  TempDir dir;
  auto store = OpenOrDie("sqlite:" + dir.File("nested/deeper/p.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir.File("nested/deeper/p.db")));
}

TEST(SqlStoreTest, RefusesDatabaseNewerThanCode) {
  TempDir dir;
  std::string path = dir.File("new.db");
  OpenOrDie("sqlite:" + path)->Close();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql = "INSERT INTO schema_migrations VALUES (" + std::to_string(LatestSchemaVersion() + 5) +
                    ", 'from the future', 0)";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenStore("sqlite:" + path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("newer than this pstrack build"), absl::string_view::npos)
      << store.status();
}

TEST(SqlStoreTest, RejectsUnsupportedUrl) {
  auto store = OpenStore("mysql://localhost/db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("db:"), absl::string_view::npos);
}

TEST(SqlStoreTest, DataSurvivesReopen) {
  TempDir dir;
  std::string url = testing::TestDatabaseUrl(dir, "d.db");
  {
    auto store = OpenOrDie(url);
    ASSERT_TRUE(InsertTree(*store).ok());
  }
  auto store = OpenOrDie(url);
  ASSERT_TRUE(store->Read([](ReadTransaction& tx) -> absl::Status {
                auto n = tx.CountAgencies();
                EXPECT_TRUE(n.ok());
                EXPECT_EQ(*n, 6);
                auto a = tx.FindAgency("P22.STP");
                EXPECT_TRUE(a.ok() && a->has_value());
                EXPECT_EQ((*a)->path, "VN/P22/P22.STP");
                EXPECT_EQ((*a)->parent_code, "P22");
                EXPECT_FALSE((*a)->valid_from.has_value());
                return absl::OkStatus();
              }).ok());
}

TEST(SqlStoreTest, SubtreeIsExactlyThePathRange) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "r.db"));
  ASSERT_TRUE(InsertTree(*store).ok());
  ASSERT_TRUE(store->Read([](ReadTransaction& tx) -> absl::Status {
                AgencyQuery q;
                q.root_path = "VN/P22";
                auto rows = tx.ListAgencies(q);
                EXPECT_TRUE(rows.ok());
                std::vector<std::string> codes;
                for (const auto& a : *rows) codes.push_back(a.code);
                // P22-X and P220 share the prefix "VN/P22" but are not in the subtree.
                EXPECT_EQ(codes, (std::vector<std::string>{"P22", "P22.STP", "P22_A"}));
                return absl::OkStatus();
              }).ok());
}

TEST(SqlStoreTest, NameSearchTreatsLikeWildcardsLiterally) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "w.db"));
  ASSERT_TRUE(store->Write([](WriteTransaction& tx) -> absl::Status {
                Agency a = WithPath(MakeAgency("VN", AgencyLevel::kNation, "", "Việt Nam 100%"), "VN", 0);
                return tx.InsertAgency(a);
              }).ok());
  ASSERT_TRUE(store->Read([](ReadTransaction& tx) -> absl::Status {
                AgencyQuery q;
                q.name_folded = "100%";
                EXPECT_EQ(tx.ListAgencies(q)->size(), 1u);
                q.name_folded = "1_0";
                EXPECT_EQ(tx.ListAgencies(q)->size(), 0u);
                q.name_folded = "viet nam";
                EXPECT_EQ(tx.ListAgencies(q)->size(), 1u);
                return absl::OkStatus();
              }).ok());
}

// The write-ahead log does not grow without bound under sustained writing:
// the commit that takes it past wal_limit_mib empties it before returning,
// even when the next transaction follows at once (a passive checkpoint
// alone never truncates it, and a background truncation starved between
// back-to-back transactions).
TEST(SqlStoreTest, WriteAheadLogIsTruncatedPastItsLimitSqlite) {
  TempDir dir;
  const std::string path = (std::filesystem::path(dir.path()) / "wal.db").string();
  StoreOptions options;
  options.wal_limit_mib = 1;
  auto opened = OpenStore("sqlite:" + path, options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Store& store = **opened;
  auto wal_bytes = [&] {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path + "-wal", ec);
    return ec ? uintmax_t{0} : n;
  };
  std::vector<AuditRow> rows(2000);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].principal = "p";
    rows[i].method = "m";
    rows[i].message = std::string(2000, static_cast<char>('a' + i % 26));
  }
  for (int t = 0; t < 3; ++t) {
    ASSERT_TRUE(store.Write([&](WriteTransaction& tx) { return tx.InsertAudit(rows); }).ok());
    // Each transaction writes some 5 MiB: past the limit at once.
    EXPECT_LT(wal_bytes(), uintmax_t{1} << 20) << "after transaction " << t;
  }
  int64_t audit_rows = 0;
  ASSERT_TRUE(store.Read([&](ReadTransaction& tx) -> absl::Status {
    AuditQuery q;
    q.limit = 10000;
    PSTRACK_ASSIGN_OR_RETURN(auto listed, tx.ListAudit(q));
    audit_rows = static_cast<int64_t>(listed.size());
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(audit_rows, 6000);
  store.Close();
}

// A PostgreSQL URL with several hosts becomes libpq's host and port lists
// (failover: libpq tries them in turn, target_session_attrs picks the one
// that takes writes).
TEST(DatabaseUrlTest, SeveralHostsBecomeLibpqLists) {
  auto one = ParseDatabaseUrl("postgresql://u:p%40ss@db.example:5433/pstrack");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->target, "host='db.example' port='5433' dbname='pstrack' user='u' password='p@ss'");
  auto two = ParseDatabaseUrl("postgresql://u@h1:5432,[::1]:5433/pstrack?target_session_attrs=read-write");
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->target,
            "host='h1,::1' port='5432,5433' dbname='pstrack' user='u' target_session_attrs='read-write'");
  auto default_port = ParseDatabaseUrl("postgresql://h1,h2:6000/d");
  ASSERT_TRUE(default_port.ok()) << default_port.status();
  EXPECT_EQ(default_port->target, "host='h1,h2' port=',6000' dbname='d'");
  auto no_port = ParseDatabaseUrl("postgresql://h1,h2/d");
  ASSERT_TRUE(no_port.ok()) << no_port.status();
  EXPECT_EQ(no_port->target, "host='h1,h2' dbname='d'");
  auto empty = ParseDatabaseUrl("postgresql://h1,,h2/d");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(empty.status().message(), "empty host")) << empty.status();
}

// Runs `sql` on the test PostgreSQL server's database `url` from a
// connection of the test's own.
void RunOnPostgres(const std::string& url, const std::string& sql) {
  auto parsed = ParseDatabaseUrl(url);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  PGconn* conn = PQconnectdb(parsed->target.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* r = PQexec(conn, sql.c_str());
  EXPECT_TRUE(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK) << PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
}

// A PostgreSQL server that drops the store's connections (a restart, a
// failover, pg_terminate_backend) does not take the store down: the next
// transaction on each connection opens it again, and a transaction that
// was running when its connection went is refused UNAVAILABLE saying
// nothing of it was stored. (SQLite has no connections to lose.)
TEST(SqlStoreTest, DroppedConnectionsAreOpenedAgainPostgresql) {
  if (!testing::TestingPostgres()) GTEST_SKIP() << "PostgreSQL only: ctest runs it in store_tests_postgresql and never registers it alone";
  TempDir dir;
  const std::string url = testing::TestDatabaseUrl(dir, "dropped.db");
  auto store = OpenOrDie(url);
  ASSERT_NE(store, nullptr);
  const std::string terminate_all =
      "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()";
  auto audit = [](int n) {
    std::vector<AuditRow> rows(n);
    for (AuditRow& r : rows) {
      r.principal = "p";
      r.method = "m";
    }
    return rows;
  };
  auto count = [&]() -> int64_t {
    int64_t n = -1;
    absl::Status read = store->Read([&](ReadTransaction& tx) -> absl::Status {
      AuditQuery q;
      q.limit = 1000;
      PSTRACK_ASSIGN_OR_RETURN(auto listed, tx.ListAudit(q));
      n = static_cast<int64_t>(listed.size());
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read;
    return n;
  };
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.InsertAudit(audit(3)); }).ok());
  EXPECT_EQ(count(), 3);

  // Dropped between transactions: every connection's next one works.
  RunOnPostgres(url, terminate_all);
  absl::Status written = store->Write([&](WriteTransaction& tx) { return tx.InsertAudit(audit(2)); });
  EXPECT_TRUE(written.ok()) << written;
  absl::Status beside = store->WriteBeside([&](WriteTransaction& tx) { return tx.InsertAudit(audit(1)); });
  EXPECT_TRUE(beside.ok()) << beside;
  for (int i = 0; i < 8; ++i) EXPECT_EQ(count(), 6) << "read " << i;  // every reader of the pool

  // Dropped inside a transaction: refused, nothing of it stored, the next works.
  absl::Status lost = store->Write([&](WriteTransaction& tx) -> absl::Status {
    PSTRACK_RETURN_IF_ERROR(tx.InsertAudit(audit(5)));
    RunOnPostgres(url, terminate_all);
    return tx.InsertAudit(audit(5));
  });
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  EXPECT_TRUE(absl::StrContains(lost.message(), "connection to the database was lost")) << lost;
  EXPECT_TRUE(absl::StrContains(lost.message(), "nothing of this call was stored")) << lost;
  EXPECT_EQ(count(), 6);
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.InsertAudit(audit(1)); }).ok());
  EXPECT_EQ(count(), 7);
  store->Close();
}

TEST(SqlStoreTest, FailedWriteRollsBackEverything) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "t.db"));
  absl::Status s = store->Write([](WriteTransaction& tx) -> absl::Status {
    absl::Status ins = tx.InsertAgency(WithPath(MakeAgency("VN", AgencyLevel::kNation, ""), "VN", 0));
    EXPECT_TRUE(ins.ok());
    return absl::InvalidArgumentError("changed my mind");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->Read([](ReadTransaction& tx) -> absl::Status {
                EXPECT_EQ(*tx.CountAgencies(), 0);
                return absl::OkStatus();
              }).ok());
}

TEST(SqlStoreTest, AtomicallyUndoesOnlyTheFailedPart) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "s.db"));
  ASSERT_TRUE(store->Write([](WriteTransaction& tx) -> absl::Status {
                EXPECT_TRUE(tx.Atomically([&] {
                                return tx.InsertAgency(WithPath(MakeAgency("VN", AgencyLevel::kNation, ""), "VN", 0));
                              }).ok());
                absl::Status bad = tx.Atomically([&]() -> absl::Status {
                  absl::Status s = tx.InsertAgency(WithPath(MakeAgency("P01", AgencyLevel::kProvince, "VN"), "VN/P01", 1));
                  EXPECT_TRUE(s.ok());
                  return absl::FailedPreconditionError("second half failed");
                });
                EXPECT_EQ(bad.code(), absl::StatusCode::kFailedPrecondition);
                return absl::OkStatus();
              }).ok());
  ASSERT_TRUE(store->Read([](ReadTransaction& tx) -> absl::Status {
                EXPECT_TRUE(tx.FindAgency("VN")->has_value());
                EXPECT_FALSE(tx.FindAgency("P01")->has_value());
                return absl::OkStatus();
              }).ok());
}

TEST(SqlStoreTest, ForeignKeysGuardTheTree) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "fk.db"));
  absl::Status s = store->Write([](WriteTransaction& tx) {
    return tx.InsertAgency(WithPath(MakeAgency("P01", AgencyLevel::kProvince, "NOPE"), "NOPE/P01", 1));
  });
  EXPECT_FALSE(s.ok());
}

TEST(SqlStoreTest, MoveDescendantsRewritesPathsAndDepths) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "m.db"));
  ASSERT_TRUE(InsertTree(*store).ok());
  ASSERT_TRUE(store->Write([](WriteTransaction& tx) {
                return tx.MoveDescendants("VN/P22", "VN/P220/P22", 1);
              }).ok());
  ASSERT_TRUE(store->Read([](ReadTransaction& tx) -> absl::Status {
                auto a = *tx.FindAgency("P22.STP");
                EXPECT_EQ(a->path, "VN/P220/P22/P22.STP");
                EXPECT_EQ(a->depth, 3);
                auto root = *tx.FindAgency("P22");
                EXPECT_EQ(root->path, "VN/P22");  // the root itself is the caller's to update
                auto other = *tx.FindAgency("P22-X");
                EXPECT_EQ(other->path, "VN/P22-X");
                return absl::OkStatus();
              }).ok());
}

TEST(SqlStoreTest, ProcedureRoundTripsWithAgencies) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "p.db"));
  ASSERT_TRUE(InsertTree(*store).ok());
  Procedure p = testing::MakeProcedure("1.001193", {AgencyLevel::kCommune, AgencyLevel::kDepartment});
  p.agency_codes = {"P22.STP", "P22_A"};
  p.Normalize();
  p.valid_from = Date(2025, 7, 1);
  p.fee_bearing = true;
  p.online_payment_integrated = true;
  p.revision = 3;
  p.create_time = absl::FromUnixMicros(1700000000123456);
  p.update_time = absl::FromUnixMicros(1700000000999999);
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.PutProcedure(p); }).ok());
  ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
                auto got = tx.FindProcedure("1.001193");
                EXPECT_TRUE(got.ok() && got->has_value());
                EXPECT_TRUE((*got)->SameContent(p));
                EXPECT_EQ((*got)->revision, 3);
                EXPECT_EQ((*got)->create_time, p.create_time);
                EXPECT_EQ((*got)->update_time, p.update_time);
                ProcedureQuery q;
                q.agency_code = "P22.STP";
                EXPECT_EQ(tx.ListProcedures(q)->size(), 1u);
                q.agency_code = "P220";
                q.agency_level = AgencyLevel::kProvince;
                EXPECT_EQ(tx.ListProcedures(q)->size(), 0u);
                q.agency_level = AgencyLevel::kCommune;
                EXPECT_EQ(tx.ListProcedures(q)->size(), 1u);
                return absl::OkStatus();
              }).ok());
}

TEST(SqlStoreTest, ConcurrentReadersAndWritersStayConsistent) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "c.db"));
  ASSERT_TRUE(InsertTree(*store).ok());
  constexpr int kWriters = 4, kPerWriter = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        std::string code = "C" + std::to_string(w) + "-" + std::to_string(i);
        absl::Status s = store->Write([&](WriteTransaction& tx) {
          return tx.InsertAgency(WithPath(MakeAgency(code, AgencyLevel::kCommune, "P22"), "VN/P22/" + code, 2));
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        absl::Status s = store->Read([&](ReadTransaction& tx) -> absl::Status {
          // Within one snapshot the count and the listing agree.
          auto n = tx.CountAgencies();
          AgencyQuery q;
          q.limit = 100000;
          auto rows = tx.ListAgencies(q);
          if (!n.ok() || !rows.ok() || static_cast<int64_t>(rows->size()) != *n) ++failures;
          return absl::OkStatus();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
                EXPECT_EQ(*tx.CountAgencies(), 6 + kWriters * kPerWriter);
                return absl::OkStatus();
              }).ok());
}

TEST(SqlStoreTest, ClosedStoreAnswersUnavailable) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "x.db"));
  store->Close();
  absl::Status s = store->Read([](ReadTransaction&) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  s = store->Write([](WriteTransaction&) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
}

TEST(SqlStoreTest, InMemoryDatabaseWorksOnOneConnection) {
  auto store = OpenOrDie("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(InsertTree(*store).ok());
  ASSERT_TRUE(store->Read([](ReadTransaction& tx) -> absl::Status {
                EXPECT_EQ(*tx.CountAgencies(), 6);
                return absl::OkStatus();
              }).ok());
}

}  // namespace
}  // namespace pstrack

namespace pstrack {
namespace {

TEST(SqlStoreTest, ApiKeysAndTheAuditLogRoundTrip) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "keys.db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(InsertTree(*store).ok());
  ApiKeyRecord centre;
  centre.name = "Trung tâm PVHCC";
  centre.role = Role::kCentre;
  centre.scope_agency_code = "P22";
  centre.certificate_subject = "centre.example";
  centre.rate_limit_per_second = 12.5;
  centre.create_us = 1'700'000'000'000'000;
  centre.created_by = "admin1";
  MintKey(centre);
  ApiKeyRecord analyst = centre;
  analyst.role = Role::kAnalyst;
  analyst.scope_agency_code.clear();
  analyst.certificate_subject.clear();
  MintKey(analyst);
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) -> absl::Status {
    PSTRACK_RETURN_IF_ERROR(tx.InsertApiKey(centre));
    return tx.InsertApiKey(analyst);
  }).ok());
  EXPECT_EQ(store->Write([&](WriteTransaction& tx) { return tx.InsertApiKey(centre); }).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.RevokeApiKey(analyst.key_id, 42, "admin2"); }).ok());
  ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
    auto found = tx.FindApiKey(centre.key_id);
    EXPECT_TRUE(found.ok() && found->has_value());
    const ApiKeyRecord& k = **found;
    EXPECT_EQ(k.name, centre.name);
    EXPECT_EQ(k.role, Role::kCentre);
    EXPECT_EQ(k.scope_agency_code, "P22");
    EXPECT_EQ(k.salt, centre.salt);
    EXPECT_EQ(k.secret_hash, centre.secret_hash);
    EXPECT_DOUBLE_EQ(k.rate_limit_per_second, 12.5);
    EXPECT_EQ(k.create_us, centre.create_us);
    EXPECT_FALSE(k.revoked());
    auto by_cert = tx.FindApiKeysByCertificate("centre.example");
    EXPECT_TRUE(by_cert.ok() && by_cert->size() == 1 && by_cert->front().key_id == centre.key_id);
    auto active = tx.ListApiKeys({});
    EXPECT_TRUE(active.ok() && active->size() == 1);
    auto all = tx.ListApiKeys({.include_revoked = true});
    EXPECT_TRUE(all.ok() && all->size() == 2);
    auto analysts = tx.ListApiKeys({.include_revoked = true, .role = Role::kAnalyst});
    EXPECT_TRUE(analysts.ok() && analysts->size() == 1 && analysts->front().revoke_us == 42 &&
                analysts->front().revoked_by == "admin2");
    return absl::OkStatus();
  }).ok());

  std::vector<AuditRow> rows;
  for (int i = 0; i < 120; ++i) {
    AuditRow r;
    r.at_us = 1000 + i;
    r.principal = i % 2 ? centre.key_id : "anonymous";
    r.role = i % 2 ? 1 : 0;
    r.method = i % 3 ? "pstrack.v1.FilingService/RecordEvents" : "pstrack.v1.AgencyService/CreateAgency";
    r.target = "target " + std::to_string(i);
    r.code = i % 5 ? 0 : 7;
    r.message = i % 5 ? "" : "role centre may not call it";
    r.applied = i;
    r.peer = "ipv4:127.0.0.1:1";
    r.duration_us = 10 * i;
    rows.push_back(r);
  }
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.InsertAudit(rows); }).ok());
  ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
    auto newest = tx.ListAudit({.limit = 3});
    EXPECT_TRUE(newest.ok() && newest->size() == 3);
    EXPECT_EQ((*newest)[0].target, "target 119");
    EXPECT_GT((*newest)[0].id, (*newest)[1].id);
    EXPECT_EQ((*newest)[0].duration_us, 1190);
    auto page2 = tx.ListAudit({.before_id = (*newest)[2].id, .limit = 1});
    EXPECT_TRUE(page2.ok() && page2->size() == 1 && (*page2)[0].target == "target 116");
    // Filters, checked against the rows written.
    auto filtered = tx.ListAudit({.principal = centre.key_id, .method_suffix = "RecordEvents", .failures_only = true,
                                  .since_us = 1010, .before_us = 1100, .limit = 1000});
    int want = 0;
    for (const AuditRow& r : rows) {
      want += r.principal == centre.key_id && absl::EndsWith(r.method, "RecordEvents") && r.code != 0 &&
              r.at_us >= 1010 && r.at_us < 1100;
    }
    EXPECT_TRUE(filtered.ok());
    EXPECT_EQ(static_cast<int>(filtered->size()), want);
    EXPECT_GT(want, 0);
    return absl::OkStatus();
  }).ok());
}

TEST(AccessControlTest, ScopesAreSubtreesByPathNotByPrefix) {
  Caller c;
  c.scope_path = "VN/P22";
  EXPECT_TRUE(AccessControl::PathInScope(c, "VN/P22"));
  EXPECT_TRUE(AccessControl::PathInScope(c, "VN/P22/P22.STP"));
  EXPECT_FALSE(AccessControl::PathInScope(c, "VN/P22-X"));
  EXPECT_FALSE(AccessControl::PathInScope(c, "VN/P220"));
  EXPECT_FALSE(AccessControl::PathInScope(c, "VN"));
  c.scope_path.clear();
  EXPECT_TRUE(AccessControl::PathInScope(c, "VN/P220"));
}

}  // namespace
}  // namespace pstrack

namespace pstrack {
namespace {

// Sums over any range read month and year roll-ups where they tile it: the
// answer must equal the sum of the day rows, for every range and grouping,
// after additions and retractions (here written straight to the store).
// PositiveValues finds exactly the values whose sum over the range is
// positive, with and without roll-ups, over several nodes.
TEST(SqlStoreTest, PositiveValuesAreThoseWithAPositiveSum) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "positive.db"));
  ASSERT_NE(store, nullptr);
  std::mt19937 rng(11);
  std::vector<AggregateRow> rows;
  for (int i = 0; i < 3000; ++i) {
    AggregateRow r;
    r.key.node_code = rng() % 3 == 0 ? "P1" : "P2";
    r.key.basis = Basis::kReceipt;
    r.key.dim = AggregateDim::kProcedure;
    r.key.dim_value = "T" + std::to_string(rng() % 400);
    r.key.day = FormatDate(Date(2024, 6, 1) + static_cast<int>(rng() % 700));
    // Mostly zero: a procedure with dossiers but none paid online.
    r.counts[static_cast<int>(Counter::kReceived)] = 1;
    r.counts[static_cast<int>(Counter::kPaidOnline)] = rng() % 9 == 0 ? 1 : 0;
    rows.push_back(r);
    rows.push_back(AggregateRow{MonthRollup(r.key), r.counts});
    rows.push_back(AggregateRow{YearRollup(r.key), r.counts});
  }
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.AddAggregates(rows); }).ok());
  const std::vector<std::pair<std::string, std::string>> ranges = {
      {"2025-01-01", "2026-01-01"}, {"2024-07-15", "2025-02-03"}, {"2025-03-01", "2025-04-01"}, {"", "2026-05-01"},
      {"2025-03-05", "2025-03-09"}};
  for (const auto& [from, until] : ranges) {
    for (const std::vector<std::string>& nodes : {std::vector<std::string>{"P1"}, {"P1", "P2"}}) {
      for (bool rolled_up : {true, false}) {
        SCOPED_TRACE(absl::StrCat(from, "..", until, " nodes ", nodes.size(), " rolled up ", rolled_up));
        AggregateQuery q{nodes, Basis::kReceipt, AggregateDim::kProcedure, from, until};
        q.rolled_up = rolled_up;
        q.by_dim_value = true;
        std::vector<AggregateRow> sums;
        std::vector<std::vector<std::string>> positive;
        // By node: each node's values are those of the node asked alone.
        std::map<std::string, std::set<std::string>> by_node, alone;
        ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
          PSTRACK_ASSIGN_OR_RETURN(sums, tx.SumAggregates(q));
          PSTRACK_ASSIGN_OR_RETURN(positive, tx.PositiveValues(q, {Counter::kPaidOnline, Counter::kReceived}));
          PSTRACK_RETURN_IF_ERROR(tx.ForEachPositiveValue(
              q, {Counter::kPaidOnline}, /*by_node=*/true,
              [&](const std::string& node, const std::string& value, const std::vector<int>& flags) {
                if (flags[0]) by_node[node].insert(value);
              }));
          for (const std::string& node : nodes) {
            AggregateQuery one = q;
            one.nodes = {node};
            PSTRACK_ASSIGN_OR_RETURN(auto values, tx.PositiveValues(one, {Counter::kPaidOnline}));
            if (!values[0].empty()) alone[node].insert(values[0].begin(), values[0].end());
          }
          return absl::OkStatus();
        }).ok());
        EXPECT_EQ(by_node, alone);
        std::set<std::string> want, want_received;
        for (const auto& r : sums) {
          if (Get(r.counts, Counter::kPaidOnline) > 0) want.insert(r.key.dim_value);
          if (Get(r.counts, Counter::kReceived) > 0) want_received.insert(r.key.dim_value);
        }
        ASSERT_EQ(positive.size(), 2u);
        EXPECT_EQ(positive[0], std::vector<std::string>(want.begin(), want.end()));
        EXPECT_EQ(positive[1], std::vector<std::string>(want_received.begin(), want_received.end()));
        if (from.empty()) {
          EXPECT_GT(want.size(), 100u);
        }
      }
    }
  }
}

// AggregateRow::changes: added like a counter (repeated keys merged, a
// row whose counters do not move still counted), summed only when asked,
// left out of the figures; clearing the aggregates moves the reference
// version, since the counts start again.
// The change count of a node, basis and day (AggregateRow::changes) grows
// by one each time a presence counter of one of its procedure rows turns
// on or off, and by nothing else. Checked against a model of the rows over
// random batches: repeated and unsorted keys, retractions down to zero,
// procedure rows moved without their total row, presence counters on other
// dimensions, and garbage in the input's own change field.
TEST(SqlStoreTest, ChangeCountsFollowPresenceAndAClearMovesTheReferenceVersion) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "changes.db"));
  ASSERT_NE(store, nullptr);
  const Counter kCounters[] = {Counter::kReceived, Counter::kPaidOnline, Counter::kReceivedOnline};
  using Cell = std::tuple<std::string, std::string, AggregateDim, std::string>;  // node, day, dim, value
  std::map<Cell, std::array<int64_t, 3>> model;
  std::map<std::string, int64_t> expected;  // node -> changes over January
  std::mt19937 rng(11);
  const char* nodes[] = {"P1", "P2"};
  const char* days[] = {"2025-01-02", "2025-01-03", "2025-01-04"};
  const char* procedures[] = {"1.000001", "1.000002", "1.000003"};
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<AggregateRow> rows;
    std::map<Cell, std::array<int64_t, 3>> after = model;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 6); i < n; ++i) {
      const int dim_pick = static_cast<int>(rng() % 4);
      const AggregateDim dim = dim_pick < 2 ? AggregateDim::kProcedure
                               : dim_pick == 2 ? AggregateDim::kTotal
                                               : AggregateDim::kChannel;
      const std::string value = dim == AggregateDim::kProcedure ? procedures[rng() % 3]
                                : dim == AggregateDim::kChannel ? "online"
                                                                : "";
      const Cell cell{nodes[rng() % 2], days[rng() % 3], dim, value};
      AggregateRow r;
      r.key = AggregateKey{std::get<0>(cell), Basis::kReceipt, dim, value, std::get<1>(cell)};
      r.changes = static_cast<int64_t>(rng() % 5);  // not the caller's to say
      for (size_t c = 0; c < 3; ++c) {
        // Up to +2, or down to zero at most (stored counts never go negative).
        int64_t delta = static_cast<int64_t>(rng() % 4) - 1;
        if (after[cell][c] + delta < 0) delta = -after[cell][c];
        after[cell][c] += delta;
        r.counts[static_cast<int>(kCounters[c])] = delta;
      }
      rows.push_back(r);
    }
    std::shuffle(rows.begin(), rows.end(), rng);
    ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.AddAggregates(rows); }).ok());
    for (const auto& [cell, now] : after) {
      if (std::get<2>(cell) != AggregateDim::kProcedure) continue;
      const auto& before = model[cell];
      for (size_t c : {1, 2}) {
        if ((before[c] > 0) != (now[c] > 0)) {
          ++expected[std::get<0>(cell)];
          break;  // both turning at once is one change of the row
        }
      }
    }
    model = after;
  }
  auto sums = [&](bool with_changes) {
    AggregateQuery q{{"P1", "P2"}, Basis::kReceipt, AggregateDim::kTotal, "2025-01-01", "2025-02-01"};
    q.by_node = true;
    q.with_changes = with_changes;
    std::map<std::string, std::pair<int64_t, int64_t>> out;  // node -> (received, changes)
    EXPECT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
      PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.SumAggregates(q));
      for (const auto& r : rows) {
        out[r.key.node_code].first += Get(r.counts, Counter::kReceived);
        out[r.key.node_code].second += r.changes;
      }
      return absl::OkStatus();
    }).ok());
    return out;
  };
  using Sums = std::map<std::string, std::pair<int64_t, int64_t>>;
  Sums want, want_without;
  for (const char* node : nodes) {
    int64_t received = 0;
    for (const auto& [cell, counts] : model) {
      if (std::get<0>(cell) == node && std::get<2>(cell) == AggregateDim::kTotal) received += counts[0];
    }
    want[node] = {received, expected[node]};
    want_without[node] = {received, 0};
  }
  EXPECT_GT(expected["P1"], 5);  // the batches did turn presence on and off
  EXPECT_EQ(sums(true), want);
  EXPECT_EQ(sums(false), want_without);
  auto version = [&] {
    std::string v;
    EXPECT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
      PSTRACK_ASSIGN_OR_RETURN(v, tx.ReferenceVersion());
      return absl::OkStatus();
    }).ok());
    return v;
  };
  const std::string before = version();
  ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.ClearAggregates(); }).ok());
  EXPECT_NE(version(), before);
  EXPECT_EQ(sums(true), Sums{});
}

// Replicas writing the same procedure rows at once (three stores on one
// database, PostgreSQL in CI): a row turns presence on exactly once
// whichever writer gets there first, so with counts that only grow the
// change count of a node is the number of its procedure rows. Two writers
// that took shared rows in different orders would deadlock (retried here,
// and counted).
TEST(SqlStoreTest, ChangeCountsStayExactWithConcurrentWriters) {
  TempDir dir;
  const std::string url = testing::TestDatabaseUrl(dir, "concurrent_changes.db");
  std::vector<std::unique_ptr<Store>> replicas;
  for (int i = 0; i < 3; ++i) {
    replicas.push_back(OpenOrDie(url));
    ASSERT_NE(replicas.back(), nullptr);
  }
  const char* nodes[] = {"P1", "P2"};
  const char* days[] = {"2025-01-02", "2025-01-03"};
  constexpr int kProcedures = 12, kBatches = 30;
  std::mutex mu;
  std::set<std::tuple<std::string, std::string, int>> cells;  // node, day, procedure
  std::atomic<int> retries{0}, failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(100 + w);
      for (int b = 0; b < kBatches; ++b) {
        std::vector<AggregateRow> rows;
        std::vector<std::tuple<std::string, std::string, int>> touched;
        for (int i = 0; i < 8; ++i) {
          const std::string node = nodes[rng() % 2], day = days[rng() % 2];
          const int procedure = static_cast<int>(rng() % kProcedures);
          AggregateRow r;
          r.key = AggregateKey{node, Basis::kReceipt, AggregateDim::kProcedure,
                               absl::StrCat("1.0000", 10 + procedure), day};
          r.counts[static_cast<int>(Counter::kReceivedOnline)] = 1;
          rows.push_back(r);
          r.key.dim = AggregateDim::kTotal;
          r.key.dim_value = "";
          r.counts[static_cast<int>(Counter::kReceived)] = 1;
          rows.push_back(r);
          touched.emplace_back(node, day, procedure);
        }
        absl::Status s;
        for (int attempt = 0; attempt < 20; ++attempt) {
          s = replicas[w]->Write([&](WriteTransaction& tx) { return tx.AddAggregates(rows); });
          if (s.code() != absl::StatusCode::kUnavailable) break;
          ++retries;
        }
        if (!s.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mu);
        cells.insert(touched.begin(), touched.end());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(retries.load(), 0);  // one lock order: no deadlock to retry
  std::map<std::string, int64_t> want;
  for (const auto& [node, day, procedure] : cells) ++want[node];
  std::map<std::string, int64_t> got;
  ASSERT_TRUE(replicas[0]->Read([&](ReadTransaction& tx) -> absl::Status {
                AggregateQuery q{{"P1", "P2"}, Basis::kReceipt, AggregateDim::kTotal, "2025-01-01", "2025-02-01"};
                q.by_node = true;
                q.with_changes = true;
                PSTRACK_ASSIGN_OR_RETURN(auto rows, tx.SumAggregates(q));
                for (const auto& r : rows) got[r.key.node_code] += r.changes;
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(got, want);
  EXPECT_GT(want["P1"], 10);
}

TEST(SqlStoreTest, RollupsSumExactlyTheirDays) {
  TempDir dir;
  auto store = OpenOrDie(testing::TestDatabaseUrl(dir, "rollup.db"));
  ASSERT_NE(store, nullptr);
  std::mt19937 rng(7);
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> truth;  // (node, value, day) -> received
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<AggregateRow> rows;
    for (int i = 0; i < 200; ++i) {
      AggregateRow r;
      r.key.node_code = rng() % 2 ? "VN" : "P1";
      r.key.basis = Basis::kReceipt;
      r.key.dim = AggregateDim::kChannel;
      r.key.dim_value = rng() % 2 ? "online" : "postal";
      r.key.day = FormatDate(Date(2023, 11, 1) + static_cast<int>(rng() % 900));
      const int64_t n = static_cast<int64_t>(rng() % 7) - 2;  // retractions too
      r.counts[static_cast<int>(Counter::kReceived)] = n;
      truth[{r.key.node_code, r.key.dim_value, r.key.day}] += n;
      rows.push_back(r);
      // The roll-ups the aggregation writes beside a day row (unsorted,
      // repeated keys: AddAggregates merges them).
      rows.push_back(AggregateRow{MonthRollup(r.key), r.counts});
      rows.push_back(AggregateRow{YearRollup(r.key), r.counts});
    }
    ASSERT_TRUE(store->Write([&](WriteTransaction& tx) { return tx.AddAggregates(rows); }).ok());
  }
  const std::vector<std::pair<std::string, std::string>> ranges = {
      {"", "2026-05-01"},           {"2024-01-01", "2025-01-01"}, {"2024-02-15", "2025-03-10"},
      {"2023-12-31", "2026-01-02"}, {"2024-03-01", "2024-04-01"}, {"2024-03-05", "2024-03-06"},
      {"2025-06-30", "2025-08-01"}, {"", "2024-01-01"},           {"2023-11-15", "2024-11-15"}};
  for (const auto& [from, until] : ranges) {
    for (int mode = 0; mode < 6; ++mode) {
      SCOPED_TRACE(from + ".." + until + " mode " + std::to_string(mode));
      AggregateQuery q{{"VN", "P1"}, Basis::kReceipt, AggregateDim::kChannel, from, until};
      // Modes 0-2 read the roll-ups where they tile the range, 3-5 the days.
      q.rolled_up = mode < 3;
      q.by_node = true;
      q.by_dim_value = true;
      q.by_month = mode % 3 == 1;
      q.by_day = mode % 3 == 2;
      std::vector<AggregateRow> got;
      ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
        PSTRACK_ASSIGN_OR_RETURN(got, tx.SumAggregates(q));
        return absl::OkStatus();
      }).ok());
      std::map<std::tuple<std::string, std::string, std::string>, int64_t> want, have;
      for (const auto& [key, n] : truth) {
        const auto& [node, value, day] = key;
        if ((!from.empty() && day < from) || day >= until) continue;
        const std::string group = mode % 3 == 2 ? day : mode % 3 == 1 ? day.substr(0, 7) : "";
        want[{node, value, group}] += n;
      }
      for (const auto& r : got) {
        have[{r.key.node_code, r.key.dim_value, r.key.day}] += Get(r.counts, Counter::kReceived);
      }
      std::erase_if(want, [](const auto& kv) { return kv.second == 0; });
      std::erase_if(have, [](const auto& kv) { return kv.second == 0; });
      EXPECT_EQ(have, want);
    }
  }
  // The day rows alone are what AllAggregates shows.
  std::vector<AggregateRow> all;
  ASSERT_TRUE(store->Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(all, tx.AllAggregates());
    return absl::OkStatus();
  }).ok());
  for (const auto& r : all) EXPECT_EQ(r.key.day.size(), 10u);
  size_t nonzero = 0;
  for (const auto& [key, n] : truth) nonzero += n != 0;
  EXPECT_EQ(all.size(), nonzero);
}

}  // namespace
}  // namespace pstrack
