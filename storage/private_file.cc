#include "storage/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/log.h"

namespace pstrack {
namespace {

constexpr mode_t kTooOpen = S_IRWXO | S_IWGRP | S_IXGRP;

absl::Status Tighten(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat("cannot read the mode of '", path, "': ", strerror(errno)));
  }
  if ((st.st_mode & kTooOpen) == 0) return absl::OkStatus();
  // Readable by others: a default umask made it, not a choice, so it
  // becomes what pstrack creates (0600). Writable by the group: the group
  // keeps reading (a deliberate 0640-style setup), never writing.
  const mode_t mode = (st.st_mode & S_IRWXO) != 0 ? (st.st_mode & S_IRWXU) : (st.st_mode & 07777 & ~kTooOpen);
  if (chmod(path.c_str(), mode) != 0) {
    return absl::PermissionDeniedError(absl::StrCat("'", path, "' is readable by other users and its mode cannot "
                                                    "be changed (", strerror(errno), "): chmod 600 it"));
  }
  LogWarning(absl::StrFormat("'%s' was readable by other users (mode %04o): now %04o", path, st.st_mode & 07777,
                             mode));
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareSqliteFile(const std::string& path) {
  if (path.empty() || path == ":memory:") return absl::OkStatus();
  std::filesystem::path p(path);
  std::error_code error;
  if (p.has_parent_path() && !std::filesystem::exists(p.parent_path(), error)) {
    std::filesystem::create_directories(p.parent_path(), error);
    if (error) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create the database directory '", p.parent_path().string(), "': ", error.message()));
    }
    std::filesystem::permissions(p.parent_path(), std::filesystem::perms::owner_all, error);
  }
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot open or create the database file '", path, "': ", strerror(errno)));
  }
  close(fd);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (absl::Status s = Tighten(path + suffix); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace pstrack
