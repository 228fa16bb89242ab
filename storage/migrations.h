// Versioned schema migrations. Each migration is a list of SQL statements
// written once for both backends; `{text_key}` expands to a text type with
// bytewise ordering (PostgreSQL: COLLATE "C"), so path ranges select subtrees.
#ifndef PSTRACK_STORAGE_MIGRATIONS_H_
#define PSTRACK_STORAGE_MIGRATIONS_H_

#include <string>
#include <vector>

namespace pstrack {

// A statement that starts with this runs on SQLite only (the prefix is
// dropped); PostgreSQL skips it.
inline constexpr char kSqliteOnly[] = "{sqlite only}";

struct Migration {
  int version;
  std::string description;
  std::vector<std::string> statements;
};

// In ascending version order, starting at 1, without gaps.
const std::vector<Migration>& AllMigrations();

}  // namespace pstrack

#endif  // PSTRACK_STORAGE_MIGRATIONS_H_
