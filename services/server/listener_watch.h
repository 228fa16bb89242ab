// Watching the server from outside gRPC, so that a replica that cannot
// serve says so and one that never will again goes away:
// - saturation: every RPC thread busy (the sync server's pool): health
//   NOT_SERVING until one is free again, so a load balancer sends the
//   traffic elsewhere;
// - a stalled listener: gRPC 1.51 may stop accepting for good after
//   accept4 failed (descriptors exhausted), connections then pile up in the
//   kernel's accept queue. Seen from /proc: connections wait in the queue
//   while the process opens no new socket, for longer than a limit, and
//   descriptors are available again. The server then stops and exits
//   non-zero, for systemd or Kubernetes to restart it.
// Thread-safe.
#ifndef PSTRACK_SERVICES_SERVER_LISTENER_WATCH_H_
#define PSTRACK_SERVICES_SERVER_LISTENER_WATCH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pstrack {

// Connections waiting in the accept queue of the socket listening on
// `port` (/proc/net/tcp and tcp6; the largest if several); nullopt when it
// cannot be read (no descriptor left, no such socket).
std::optional<int64_t> AcceptQueueLength(int port);
// The inodes of this process's sockets (/proc/self/fd); nullopt when they
// cannot be read.
std::optional<absl::flat_hash_set<uint64_t>> OwnSockets();

// Decides from samples whether the listener has stalled: connections
// waited in its queue at every sample for `limit` while no new socket of
// the process appeared. Thread-compatible.
class StallDetector {
 public:
  explicit StallDetector(absl::Duration limit) : limit_(limit) {}
  // One sample: the queue's length (nullopt: unreadable, which says
  // nothing) and whether a socket appeared since the previous sample.
  // Returns true once stalled.
  bool Observe(absl::Time now, std::optional<int64_t> queued, bool accepted);

 private:
  absl::Duration limit_;
  std::optional<absl::Time> stalled_since_;
};

class ListenerWatch {
 public:
  struct Options {
    int port = 0;
    int max_threads = 64;                  // the RPC thread pool
    std::function<int()> calls_in_flight;  // handlers running now
    std::function<void(bool)> set_serving;  // health
    std::function<void()> on_stalled;       // stop the process (non-zero exit)
    absl::Duration interval = absl::Milliseconds(500);
    absl::Duration stall_limit = absl::Seconds(3);
  };
  explicit ListenerWatch(Options options);
  ~ListenerWatch();  // stops the thread

 private:
  void Loop();

  Options options_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SERVER_LISTENER_WATCH_H_
