// The SQLite database holds personal data (citizens' dossiers): its files
// are readable by the server's user alone (0600), or by a group the
// operator chose (0640), never by everyone. SQLite creates the -wal and
// -shm files with the mode of the database file, so the database file is
// made before SQLite opens it.
#ifndef PSTRACK_STORAGE_PRIVATE_FILE_H_
#define PSTRACK_STORAGE_PRIVATE_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace pstrack {

// Creates the database's directory (0700 when it is made here) and the
// file itself (0600) if they are missing. An existing database file, -wal
// or -shm file that others may read becomes 0600; one its group may write
// loses that bit, keeping the group's read access (0640). A warning says so.
absl::Status PrepareSqliteFile(const std::string& path);

}  // namespace pstrack

#endif  // PSTRACK_STORAGE_PRIVATE_FILE_H_
