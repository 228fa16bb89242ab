#include "services/server/listener_watch.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/log.h"

namespace pstrack {

std::optional<int64_t> AcceptQueueLength(int port) {
  std::optional<int64_t> longest;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    if (!in) continue;
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // "  sl  local_address rem_address   st tx_queue:rx_queue ..."; for a
      // listening socket (st 0A) rx_queue is its accept queue.
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (f.size() < 5 || f[3] != "0A") continue;
      const size_t colon = f[1].rfind(':');
      uint32_t local_port = 0, queued = 0;
      if (colon == absl::string_view::npos || !absl::SimpleHexAtoi(f[1].substr(colon + 1), &local_port) ||
          static_cast<int>(local_port) != port) {
        continue;
      }
      const size_t q = f[4].find(':');
      if (q == absl::string_view::npos || !absl::SimpleHexAtoi(f[4].substr(q + 1), &queued)) continue;
      longest = std::max<int64_t>(longest.value_or(0), queued);
    }
  }
  return longest;
}

std::optional<absl::flat_hash_set<uint64_t>> OwnSockets() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  absl::flat_hash_set<uint64_t> out;
  char target[64];
  while (const dirent* entry = readdir(dir)) {
    const std::string path = absl::StrCat("/proc/self/fd/", entry->d_name);
    const ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    const absl::string_view link(target, static_cast<size_t>(n));
    uint64_t inode = 0;
    if (link.size() > 9 && link.substr(0, 8) == "socket:[" && absl::SimpleAtoi(link.substr(8, link.size() - 9), &inode)) {
      out.insert(inode);
    }
  }
  closedir(dir);
  return out;
}

bool StallDetector::Observe(absl::Time now, std::optional<int64_t> queued, bool accepted) {
  if (!queued.has_value()) return false;  // no descriptor to look with: not evidence either way
  if (*queued == 0 || accepted) {
    stalled_since_.reset();
    return false;
  }
  if (!stalled_since_) stalled_since_ = now;
  return now - *stalled_since_ >= limit_;
}

ListenerWatch::ListenerWatch(Options options) : options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

ListenerWatch::~ListenerWatch() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  thread_.join();
}

void ListenerWatch::Loop() {
  StallDetector detector(options_.stall_limit);
  std::optional<absl::flat_hash_set<uint64_t>> sockets = OwnSockets();
  std::optional<bool> serving;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (!stop_) cv_.WaitWithTimeout(&mu_, options_.interval);
      if (stop_) return;
    }
    // Saturated: every RPC thread runs a handler (one kept for health and
    // the next call).
    const int busy = options_.calls_in_flight();
    const bool saturated = busy >= options_.max_threads - 1;
    std::optional<absl::flat_hash_set<uint64_t>> now_sockets = OwnSockets();
    bool accepted = false;
    if (now_sockets && sockets) {
      for (uint64_t inode : *now_sockets) accepted |= !sockets->contains(inode);
    }
    if (now_sockets) sockets = std::move(now_sockets);
    // Unreadable sockets (descriptors exhausted): the queue is not read
    // either, so the sample says nothing.
    const std::optional<int64_t> queued = sockets ? AcceptQueueLength(options_.port) : std::nullopt;
    if (detector.Observe(absl::Now(), queued, accepted)) {
      LogError("the listener has stopped accepting: ", *queued, " connections have waited in its queue for ",
               absl::FormatDuration(options_.stall_limit),
               " while descriptors are available; health NOT_SERVING, stopping (exit status 1) for the "
               "supervisor to restart the server");
      options_.set_serving(false);
      options_.on_stalled();
      return;
    }
    if (serving != !saturated) {
      if (saturated) {
        LogWarning("saturated: ", busy, " of ", options_.max_threads,
                   " RPC threads busy; health NOT_SERVING until one is free");
      } else if (serving.has_value()) {
        LogInfo("no longer saturated (", busy, " of ", options_.max_threads, " RPC threads busy); health SERVING");
      }
      serving = !saturated;
      options_.set_serving(*serving);
    }
  }
}

}  // namespace pstrack
