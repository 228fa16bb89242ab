// The database a storage or integration test runs on: a SQLite file, or a
// fresh database on the test PostgreSQL server when the suite runs with
// PSTRACK_TEST_BACKEND=postgresql (tools/test.sh sets it up).
#ifndef PSTRACK_TESTS_TEST_DATABASE_H_
#define PSTRACK_TESTS_TEST_DATABASE_H_

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "libpq-fe.h"
#include "tests/test_util.h"

namespace pstrack::testing {

// True when the suite runs against PostgreSQL (tools/test.sh sets
// PSTRACK_TEST_BACKEND=postgresql and PSTRACK_TEST_POSTGRES_URL for the
// PostgreSQL ctest entries).
inline bool TestingPostgres() {
  const char* backend = std::getenv("PSTRACK_TEST_BACKEND");
  return backend != nullptr && std::string(backend) == "postgresql";
}

// A fresh, empty database for one test: a SQLite file in `dir`, or a new
// database on the test PostgreSQL server. Fails loudly (never skips) when
// PostgreSQL is asked for but not reachable. The same `dir` and `name` give
// the same database again (to test reopening). With `copy_of` (the URL of
// another test database, closed), the new database starts as a copy of it
// (CREATE DATABASE ... TEMPLATE; a copy of the SQLite file), which saves
// loading the same reference data into every database of a test.
inline std::string TestDatabaseUrl(const TempDir& dir, const std::string& name, const std::string& copy_of = "") {
  if (!TestingPostgres()) {
    const std::string file = dir.File(name);
    if (!copy_of.empty() && !std::filesystem::exists(file)) {
      const std::string from = copy_of.substr(copy_of.find(':') + 1);
      std::filesystem::copy_file(from, file);
      if (std::filesystem::exists(from + "-wal")) std::filesystem::copy_file(from + "-wal", file + "-wal");
    }
    return "sqlite:" + file;
  }
  const char* base = std::getenv("PSTRACK_TEST_POSTGRES_URL");
  if (base == nullptr || *base == 0) {
    std::cerr << "PSTRACK_TEST_BACKEND=postgresql needs PSTRACK_TEST_POSTGRES_URL (postgresql://user@host:port/db)\n";
    std::abort();
  }
  // One database per (temporary directory, name): the directory's unique suffix names it.
  std::string db = "t_" + dir.path().substr(dir.path().rfind('-') + 1) + "_" + name;
  for (char& c : db) c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  std::string url = base;
  const std::string admin = url;
  url = url.substr(0, url.rfind('/') + 1) + db;
  static std::set<std::string>* created = new std::set<std::string>();
  if (created->insert(db).second) {
    std::string conninfo = admin;
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::cerr << "cannot reach the test PostgreSQL server: " << PQerrorMessage(conn) << "\n";
      std::abort();
    }
    PGresult* r = PQexec(conn, ("DROP DATABASE IF EXISTS " + db).c_str());
    PQclear(r);
    const std::string create =
        "CREATE DATABASE " + db + (copy_of.empty() ? "" : " TEMPLATE " + copy_of.substr(copy_of.rfind('/') + 1));
    r = PQexec(conn, create.c_str());
    // A template's last connections may take a moment to go away.
    for (int retry = 0; retry < 50 && !copy_of.empty() && PQresultStatus(r) != PGRES_COMMAND_OK; ++retry) {
      PQclear(r);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      r = PQexec(conn, create.c_str());
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::cerr << "CREATE DATABASE " << db << " failed: " << PQerrorMessage(conn) << "\n";
      std::abort();
    }
    PQclear(r);
    PQfinish(conn);
  }
  return url;
}

// Runs SQL on the test database behind the store's back, with the backend's
// own client library (to plant what a bug or a hand edit would leave).
inline std::string ExecSql(const std::string& url, const std::string& sql) {
  if (TestingPostgres()) {
    PGconn* conn = PQconnectdb(url.c_str());
    PGresult* r = PQexec(conn, sql.c_str());
    std::string error = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
                            ? ""
                            : PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
    return error;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(url.substr(url.find(':') + 1).c_str(), &db) != SQLITE_OK) return "cannot open " + url;
  char* message = nullptr;
  std::string error;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) error = message ? message : "failed";
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

// The rows a query returns, every value as text (NULL as "NULL"), read
// behind the store's back with the backend's own client library; `error`
// is empty when the query ran.
struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string error;
};

inline SqlRows QuerySql(const std::string& url, const std::string& sql) {
  SqlRows out;
  if (TestingPostgres()) {
    PGconn* conn = PQconnectdb(url.c_str());
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      out.error = PQerrorMessage(conn);
    } else {
      for (int c = 0; c < PQnfields(r); ++c) out.columns.push_back(PQfname(r, c));
      for (int i = 0; i < PQntuples(r); ++i) {
        std::vector<std::string>& row = out.rows.emplace_back();
        for (int c = 0; c < PQnfields(r); ++c) row.push_back(PQgetisnull(r, i, c) ? "NULL" : PQgetvalue(r, i, c));
      }
    }
    PQclear(r);
    PQfinish(conn);
    return out;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(url.substr(url.find(':') + 1).c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    out.error = "cannot open " + url;
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    out.error = sqlite3_errmsg(db);
    sqlite3_close(db);
    return out;
  }
  for (int c = 0; c < sqlite3_column_count(st); ++c) out.columns.push_back(sqlite3_column_name(st, c));
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string>& row = out.rows.emplace_back();
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const unsigned char* text = sqlite3_column_text(st, c);
      row.push_back(sqlite3_column_type(st, c) == SQLITE_NULL || text == nullptr ? "NULL"
                                                                                  : reinterpret_cast<const char*>(text));
    }
  }
  if (step != SQLITE_DONE) out.error = sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace pstrack::testing

#endif  // PSTRACK_TESTS_TEST_DATABASE_H_
