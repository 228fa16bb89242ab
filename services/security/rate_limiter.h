// Per-client token buckets: each identity may make `rate` requests a second
// on average and bursts of `rate * burst_seconds`. Thread-safe; state lives
// in this process (each replica limits on its own; see docs/security.md).
#ifndef PSTRACK_SERVICES_SECURITY_RATE_LIMITER_H_
#define PSTRACK_SERVICES_SECURITY_RATE_LIMITER_H_

#include <array>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pstrack {

class RateLimiter {
 public:
  explicit RateLimiter(double burst_seconds = 2.0) : burst_seconds_(burst_seconds) {}

  // Takes one token from `client`'s bucket at `now`. Returns zero when the
  // request may go ahead, else how long until it would (nothing is taken).
  // rate <= 0: unlimited.
  absl::Duration Take(absl::string_view client, double rate, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    double rate = 0;
    absl::Time last;
  };
  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
    // Sweep for full buckets when the map reaches this size; doubles when
    // a sweep frees too little, so inserts stay amortised O(1).
    size_t sweep_at ABSL_GUARDED_BY(mu) = kMaxBucketsPerShard;
  };
  static constexpr int kShards = 16;
  // Full buckets carry no information and are forgotten beyond this size.
  static constexpr size_t kMaxBucketsPerShard = 4096;

  const double burst_seconds_;
  std::array<Shard, kShards> shards_;
};

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SECURITY_RATE_LIMITER_H_
