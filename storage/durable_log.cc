#include "storage/durable_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace pstrack {

namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " '", path, "': ", std::strerror(errno)));
}

// An open descriptor of the log file, reopened when the path names another
// file (SQLite removes the log when its last connection closes). Opened at
// once, and a spare descriptor kept for a reopen: when clients have taken
// every descriptor the process may have, a flush must still find one (it
// stops the process when it cannot).
class LogFile {
 public:
  explicit LogFile(std::string path) : path_(std::move(path)) {
    spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    (void)Flush();  // opens it; a failure here is met again by the first real flush
  }
  ~LogFile() {
    if (fd_ >= 0) ::close(fd_);
    if (spare_ >= 0) ::close(spare_);
  }

  absl::Status Flush() {
    struct stat named;
    if (::stat(path_.c_str(), &named) != 0) {
      // SQLite removes the log only after copying it into the database file
      // and flushing that: nothing is left to flush.
      if (errno == ENOENT) return absl::OkStatus();
      return Errno("cannot stat the write-ahead log", path_);
    }
    if (fd_ < 0 || named.st_ino != inode_ || named.st_dev != device_) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0 && (errno == EMFILE || errno == ENFILE) && spare_ >= 0) {
        ::close(spare_);  // the spare's turn; another is taken afterwards
        spare_ = -1;
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      }
      if (fd_ < 0) return Errno("cannot open the write-ahead log", path_);
      struct stat opened;
      if (::fstat(fd_, &opened) != 0) return Errno("cannot stat the write-ahead log", path_);
      inode_ = opened.st_ino;
      device_ = opened.st_dev;
      // The log's directory entry, once per file.
      const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
      if (spare_ < 0) spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      int dir_fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir_fd < 0 && (errno == EMFILE || errno == ENFILE) && spare_ >= 0) {
        ::close(spare_);
        spare_ = -1;
        dir_fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      }
      if (dir_fd < 0) return Errno("cannot open the directory of", path_);
      const int rc = ::fsync(dir_fd);
      ::close(dir_fd);
      if (spare_ < 0) spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (rc != 0) return Errno("cannot flush the directory of", path_);
    }
    if (::fdatasync(fd_) != 0) return Errno("cannot flush the write-ahead log", path_);
    return absl::OkStatus();
  }

 private:
  std::string path_;
  int fd_ = -1;
  int spare_ = -1;  // /dev/null, closed to make room for a reopen
  ino_t inode_ = 0;
  dev_t device_ = 0;
};

}  // namespace

std::function<absl::Status()> DurableLog::FileFlush(std::string path) {
  // Called by one flusher at a time (DurableLog::flushing_).
  auto file = std::make_shared<LogFile>(std::move(path));
  return [file] { return file->Flush(); };
}

uint64_t DurableLog::Committed() {
  absl::MutexLock lock(&mu_);
  return ++committed_;
}

void DurableLog::WaitDurable(uint64_t ticket) {
  mu_.Lock();
  while (durable_ < ticket) {
    if (flushing_) {
      // A flush is running; it may have begun before this commit, so check
      // again when it ends (and flush then if it did not cover it).
      flushed_cv_.Wait(&mu_);
      continue;
    }
    flushing_ = true;
    const uint64_t covers = committed_;  // every commit so far is in the file
    mu_.Unlock();
    const absl::Status flushed = flush_();
    if (!flushed.ok()) {
      LogError("stopping: ", flushed.message(), "; committed writes may not be durable, restart to recover");
      std::abort();
    }
    mu_.Lock();
    flushing_ = false;
    ++flushes_;
    if (covers > durable_) durable_ = covers;
    flushed_cv_.SignalAll();
  }
  mu_.Unlock();
}

int64_t DurableLog::flushes() const {
  absl::MutexLock lock(&mu_);
  return flushes_;
}

}  // namespace pstrack
