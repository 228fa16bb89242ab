#include "services/security/rate_limiter.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace pstrack {

absl::Duration RateLimiter::Take(absl::string_view client, double rate, absl::Time now) {
  if (rate <= 0) return absl::ZeroDuration();
  const double capacity = std::max(1.0, rate * burst_seconds_);
  Shard& shard = shards_[absl::Hash<absl::string_view>()(client) % kShards];
  absl::MutexLock lock(&shard.mu);
  if (shard.buckets.size() >= shard.sweep_at && !shard.buckets.contains(client)) {
    // Forget buckets that have refilled: they hold no information.
    absl::erase_if(shard.buckets, [&](const auto& entry) {
      const Bucket& b = entry.second;
      return b.tokens + absl::ToDoubleSeconds(now - b.last) * b.rate >= std::max(1.0, b.rate * burst_seconds_);
    });
    shard.sweep_at = std::max(kMaxBucketsPerShard, 2 * shard.buckets.size());
  }
  auto [it, inserted] = shard.buckets.try_emplace(client);
  Bucket& b = it->second;
  b.rate = rate;
  if (inserted) {
    b.tokens = capacity;
    b.last = now;
  }
  if (now > b.last) {
    b.tokens = std::min(capacity, b.tokens + absl::ToDoubleSeconds(now - b.last) * rate);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1.0 - b.tokens) / rate);
}

}  // namespace pstrack
