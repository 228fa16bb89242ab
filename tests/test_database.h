// The database a storage or integration test runs on: a SQLite file, or a
// fresh database on the test PostgreSQL server when the suite runs with
// PSTRACK_TEST_BACKEND=postgresql (tools/test.sh sets it up).
#ifndef PSTRACK_TESTS_TEST_DATABASE_H_
#define PSTRACK_TESTS_TEST_DATABASE_H_

#include <cctype>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

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
// the same database again (to test reopening).
inline std::string TestDatabaseUrl(const TempDir& dir, const std::string& name) {
  if (!TestingPostgres()) return "sqlite:" + dir.File(name);
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
    r = PQexec(conn, ("CREATE DATABASE " + db).c_str());
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

}  // namespace pstrack::testing

#endif  // PSTRACK_TESTS_TEST_DATABASE_H_
