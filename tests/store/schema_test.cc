// The schema history is frozen. Three checks, on SQLite and on PostgreSQL,
// each reading the database with the backend's own client library (sqlite3,
// libpq), not through the store:
//  - every migration's statements are the text committed for its version
//    (tests/store/schema/migrations.sha256): an old migration that changes,
//    for example because it builds its SQL from today's counter list, fails;
//  - a database created empty and migrated to the latest version has exactly
//    the committed schema of that version (tests/store/schema/vN.<backend>.txt:
//    tables, columns, types, defaults, constraints, indexes);
//  - a database made at version 6 (tests/store/schema/v6.<backend>.sql, with
//    data) and upgraded reaches the same schema, with its data rolled up.
//
// Adding migration N: run store_tests once with PSTRACK_WRITE_SCHEMA_FIXTURES=1
// (and again with PSTRACK_TEST_BACKEND=postgresql); it writes what is missing
// (the digest line of N, vN.sqlite.txt, vN.postgresql.txt) and never rewrites
// what exists. Review and commit them; the old fixtures stay as they are.
#include <openssl/evp.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "libpq-fe.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "tests/test_database.h"

namespace pstrack {
namespace {

const std::string kFixtures = std::string(PSTRACK_SOURCE_DIR) + "/tests/store/schema/";

bool WriteFixtures() {
  const char* v = std::getenv("PSTRACK_WRITE_SCHEMA_FIXTURES");
  return v != nullptr && std::string(v) == "1";
}

std::string Backend() { return testing::TestingPostgres() ? "postgresql" : "sqlite"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares `actual` with the fixture at `path`; writes a missing fixture
// when asked to (and says so), never rewrites one.
void ExpectMatchesFixture(const std::string& path, const std::string& actual) {
  if (!std::filesystem::exists(path)) {
    if (WriteFixtures()) {
      std::ofstream(path, std::ios::binary) << actual;
      std::cerr << "wrote " << path << ": review and commit it\n";
      return;
    }
    ADD_FAILURE() << path << " is missing: a new migration needs its schema fixture (see schema_test.cc)";
    return;
  }
  const std::string expected = ReadFile(path);
  if (expected == actual) return;
  // The first line that differs, then both in full.
  std::vector<std::string> e = absl::StrSplit(expected, '\n'), a = absl::StrSplit(actual, '\n');
  size_t i = 0;
  while (i < e.size() && i < a.size() && e[i] == a[i]) ++i;
  ADD_FAILURE() << "the schema differs from " << path << " at line " << i + 1 << ":\n  fixture:  "
                << (i < e.size() ? e[i] : "(end)") << "\n  database: " << (i < a.size() ? a[i] : "(end)")
                << "\nwhole database schema:\n"
                << actual;
}

// --- SQLite, read with the sqlite3 library -----------------------------------

std::vector<std::vector<std::string>> SqliteRows(sqlite3* db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    return rows;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const unsigned char* text = sqlite3_column_text(stmt, c);
      row.push_back(text == nullptr ? "NULL" : reinterpret_cast<const char*>(text));
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return rows;
}

std::string DescribeSqlite(const std::string& file) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::string out;
  for (const auto& t : SqliteRows(db, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                      "'sqlite_%' ORDER BY name")) {
    const std::string& table = t[0];
    absl::StrAppend(&out, "table ", table, absl::StrContains(t[1], "WITHOUT ROWID") ? " without rowid" : "", "\n");
    // cid, name, type, notnull, dflt_value, pk
    for (const auto& c : SqliteRows(db, absl::StrCat("PRAGMA table_info('", table, "')"))) {
      absl::StrAppend(&out, "  column ", c[1], " ", c[2], c[3] == "1" ? " not null" : "",
                      c[4] == "NULL" ? "" : " default " + c[4], c[5] == "0" ? "" : " primary key " + c[5], "\n");
    }
    // id, seq, table, from, to, on_update, on_delete, match
    for (const auto& f : SqliteRows(db, absl::StrCat("PRAGMA foreign_key_list('", table, "')"))) {
      absl::StrAppend(&out, "  foreign key ", f[3], " references ", f[2], "(", f[4], ") on delete ", f[6], "\n");
    }
  }
  for (const auto& i : SqliteRows(db, "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
                                      "ORDER BY name")) {
    // seqno, cid, name, desc, coll, key
    std::string columns;
    for (const auto& c : SqliteRows(db, absl::StrCat("PRAGMA index_xinfo('", i[0], "')"))) {
      if (c[5] != "1") continue;
      absl::StrAppend(&columns, columns.empty() ? "" : ", ", c[2], c[3] == "1" ? " desc" : "",
                      c[4] == "BINARY" ? "" : " collate " + c[4]);
    }
    bool unique = false;
    for (const auto& l : SqliteRows(db, absl::StrCat("PRAGMA index_list('", i[1], "')"))) {
      if (l[1] == i[0]) unique = l[2] == "1";
    }
    std::string where;
    if (size_t w = i[2].find(" WHERE "); i[2] != "NULL" && w != std::string::npos) where = i[2].substr(w);
    absl::StrAppend(&out, "index ", i[0], " on ", i[1], unique ? " unique" : "", " (", columns, ")", where, "\n");
  }
  sqlite3_close(db);
  return out;
}

// --- PostgreSQL, read with libpq ---------------------------------------------

std::vector<std::vector<std::string>> PgRows(PGconn* conn, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  PGresult* r = PQexec(conn, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
    ADD_FAILURE() << sql.substr(0, 200) << ": " << PQerrorMessage(conn);
  } else {
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(r); ++c) row.push_back(PQgetisnull(r, i, c) ? "NULL" : PQgetvalue(r, i, c));
      rows.push_back(std::move(row));
    }
  }
  PQclear(r);
  return rows;
}

std::string DescribePostgres(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  std::string out;
  for (const auto& t : PgRows(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                                    "AND table_type = 'BASE TABLE' ORDER BY table_name COLLATE \"C\"")) {
    const std::string& table = t[0];
    absl::StrAppend(&out, "table ", table, "\n");
    for (const auto& c : PgRows(conn, absl::StrCat("SELECT column_name, data_type, is_nullable, column_default, "
                                                   "collation_name, is_identity FROM information_schema.columns "
                                                   "WHERE table_schema = 'public' AND table_name = '",
                                                   table, "' ORDER BY ordinal_position"))) {
      absl::StrAppend(&out, "  column ", c[0], " ", c[1], c[2] == "NO" ? " not null" : "",
                      c[3] == "NULL" ? "" : " default " + c[3], c[4] == "NULL" ? "" : " collate " + c[4],
                      c[5] == "YES" ? " identity" : "", "\n");
    }
    for (const auto& c : PgRows(conn, absl::StrCat("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                                   "WHERE conrelid = 'public.",
                                                   table, "'::regclass ORDER BY conname COLLATE \"C\""))) {
      absl::StrAppend(&out, "  constraint ", c[0], " ", c[1], "\n");
    }
  }
  for (const auto& i : PgRows(conn, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                                    "ORDER BY indexname COLLATE \"C\"")) {
    absl::StrAppend(&out, "index ", i[0], ": ", i[1], "\n");
  }
  PQfinish(conn);
  return out;
}

std::string DatabaseFile(const std::string& url) { return url.substr(std::strlen("sqlite:")); }

std::string Describe(const std::string& url) {
  return testing::TestingPostgres() ? DescribePostgres(url) : DescribeSqlite(DatabaseFile(url));
}

void OpenAndClose(const std::string& url) {
  auto store = OpenStore(url);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->schema_version(), LatestSchemaVersion());
  (*store)->Close();
}

// --- the tests ---------------------------------------------------------------

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) absl::StrAppend(&hex, absl::Hex(digest[i], absl::kZeroPad2));
  return hex;
}

TEST(SchemaHistoryTest, EveryMigrationIsTheTextOfItsVersion) {
  const std::string path = kFixtures + "migrations.sha256";
  std::map<int, std::string> committed;
  for (absl::string_view line : absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    int version = 0;
    ASSERT_TRUE(parts.size() >= 2 && absl::SimpleAtoi(parts[0], &version)) << path << ": " << line;
    committed[version] = parts[1];
  }
  std::string missing;
  for (const Migration& m : AllMigrations()) {
    std::string text = absl::StrCat(m.version, "\n", m.description);
    for (const std::string& s : m.statements) absl::StrAppend(&text, "\n--\n", s);
    const std::string digest = Sha256Hex(text);
    auto it = committed.find(m.version);
    if (it == committed.end()) {
      absl::StrAppend(&missing, m.version, " ", digest, " ", m.description.substr(0, 60), "\n");
      continue;
    }
    EXPECT_EQ(it->second, digest) << "migration " << m.version << " (" << m.description
                                  << ") is not the text committed for its version: migrations are history; "
                                     "change the schema with a new migration instead";
  }
  if (!missing.empty()) {
    if (WriteFixtures()) {
      std::ofstream(path, std::ios::app) << missing;
      std::cerr << "appended to " << path << ":\n" << missing;
    } else {
      ADD_FAILURE() << path << " has no digest for:\n" << missing << "(see schema_test.cc)";
    }
  }
}

TEST(SchemaHistoryTest, AFreshDatabaseHasTheCommittedSchemaOfTheLatestVersion) {
  testing::TempDir dir;
  const std::string url = testing::TestDatabaseUrl(dir, "fresh.db");
  OpenAndClose(url);
  ExpectMatchesFixture(absl::StrCat(kFixtures, "v", LatestSchemaVersion(), ".", Backend(), ".txt"), Describe(url));
}

// The v6 fixture: migrations 1 to 6 as they were applied, a small tree and
// day rows of aggregates in two months of 2025 for the nation, a province and
// a commune (so migration 7 rolls them up and migration 8 drops the commune's
// roll-ups), written by the generator below when missing.
std::string Version6Fixture() {
  const bool pg = testing::TestingPostgres();
  const std::string text_key = pg ? "TEXT COLLATE \"C\"" : "TEXT";
  const std::string auto_id = pg ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  std::string sql = absl::StrCat(
      "-- A pstrack database at schema version 6 (", Backend(),
      "), made by tests/store/schema_test.cc from migrations 1-6. Never regenerate: it stands for databases "
      "made by older releases.\n"
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
      "applied_time_us BIGINT NOT NULL);\n");
  for (const Migration& m : AllMigrations()) {
    if (m.version > 6) break;
    for (std::string s : m.statements) {
      if (absl::StartsWith(s, kSqliteOnly)) {
        if (pg) continue;
        s.erase(0, std::strlen(kSqliteOnly));
      }
      absl::StrAppend(&sql, absl::StrReplaceAll(s, {{"{text_key}", text_key}, {"{auto_id}", auto_id}}), ";\n");
    }
    absl::StrAppend(&sql, "INSERT INTO schema_migrations VALUES (", m.version, ", '",
                    absl::StrReplaceAll(m.description, {{"'", "''"}}), "', 1700000000000000);\n");
  }
  absl::StrAppend(&sql,
                  "INSERT INTO agencies (code, name, name_folded, level, parent_code, admin_code, path, depth, "
                  "revision, create_time_us, update_time_us) VALUES\n"
                  "  ('VN', 'Việt Nam', 'viet nam', 1, NULL, '', 'VN', 0, 1, 0, 0),\n"
                  "  ('P22', 'Tỉnh Quảng Ninh', 'tinh quang ninh', 3, 'VN', '22', 'VN/P22', 1, 1, 0, 0),\n"
                  "  ('P22.HALONG', 'Phường Hạ Long', 'phuong ha long', 6, 'P22', '06688', 'VN/P22/P22.HALONG', 2, "
                  "1, 0, 0);\n");
  // received on four days: 3 + 4 in July, 5 + 6 in August, at every node.
  for (const char* node : {"VN", "P22", "P22.HALONG"}) {
    for (auto [day, received] : std::vector<std::pair<const char*, int>>{
             {"2025-07-01", 3}, {"2025-07-15", 4}, {"2025-08-01", 5}, {"2025-08-31", 6}}) {
      absl::StrAppend(&sql, "INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, "
                            "appointment_mismatch) VALUES ('",
                      node, "', 0, 0, '', '", day, "', ", received, ", 1, 0);\n");
    }
  }
  return sql;
}

void LoadSql(const std::string& url, const std::string& sql) {
  if (testing::TestingPostgres()) {
    PGconn* conn = PQconnectdb(url.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r = PQexec(conn, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DatabaseFile(url).c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string Scalar(const std::string& url, const std::string& sql) {
  if (testing::TestingPostgres()) {
    PGconn* conn = PQconnectdb(url.c_str());
    auto rows = PgRows(conn, sql);
    PQfinish(conn);
    return rows.empty() ? "" : rows[0][0];
  }
  sqlite3* db = nullptr;
  sqlite3_open_v2(DatabaseFile(url).c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  auto rows = SqliteRows(db, sql);
  sqlite3_close(db);
  return rows.empty() ? "" : rows[0][0];
}

TEST(SchemaHistoryTest, ADatabaseMadeAtVersion6UpgradesToTheSameSchemaWithItsDataRolledUp) {
  const std::string path = absl::StrCat(kFixtures, "v6.", Backend(), ".sql");
  if (!std::filesystem::exists(path) && WriteFixtures()) {
    std::ofstream(path, std::ios::binary) << Version6Fixture();
    std::cerr << "wrote " << path << ": review and commit it\n";
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing";
  testing::TempDir dir;
  const std::string url = testing::TestDatabaseUrl(dir, "v6.db");
  ASSERT_NO_FATAL_FAILURE(LoadSql(url, ReadFile(path)));
  ASSERT_EQ(Scalar(url, "SELECT MAX(version) FROM schema_migrations"), "6");
  OpenAndClose(url);
  ExpectMatchesFixture(absl::StrCat(kFixtures, "v", LatestSchemaVersion(), ".", Backend(), ".txt"), Describe(url));

  // Migration 7 rolled the day rows up by month and year; migration 8 kept
  // the roll-ups of the first two levels only (the nation and the province).
  auto sum = [&](const std::string& node, int basis, const std::string& day) {
    return Scalar(url, absl::StrCat("SELECT SUM(received) FROM aggregates WHERE node_code = '", node,
                                    "' AND basis = ", basis, " AND day = '", day, "'"));
  };
  EXPECT_EQ(sum("VN", 10, "2025-07-01"), "7");   // 3 + 4
  EXPECT_EQ(sum("P22", 10, "2025-08-01"), "11");  // 5 + 6
  EXPECT_EQ(sum("VN", 20, "2025-01-01"), "18");   // 3 + 4 + 5 + 6
  EXPECT_EQ(Scalar(url, "SELECT COUNT(*) FROM aggregates WHERE node_code = 'P22.HALONG' AND basis >= 10"), "0");
  EXPECT_EQ(Scalar(url, "SELECT COUNT(*) FROM aggregates WHERE basis < 10"), "12");
  EXPECT_EQ(Scalar(url, "SELECT SUM(finished) FROM aggregates WHERE node_code = 'P22' AND basis = 20"), "4");
}

}  // namespace
}  // namespace pstrack
