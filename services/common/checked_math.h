// Integer sums that cannot wrap around. Every count pstrack adds up is
// bounded far below 2^63 (events are counted one by one, reported figures
// are at most kMaxReportedCount each), so these never change a result that
// can be true; they make sure an impossible input gives an impossible-looking
// figure or an error, never a small wrong one.
#ifndef PSTRACK_SERVICES_COMMON_CHECKED_MATH_H_
#define PSTRACK_SERVICES_COMMON_CHECKED_MATH_H_

#include <cstdint>
#include <limits>

namespace pstrack {

// a + b, or false (and *out untouched) when it does not fit in int64_t.
inline bool CheckedAdd(int64_t a, int64_t b, int64_t* out) {
  int64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return false;
  *out = sum;
  return true;
}

// a + b, held at the int64_t limits instead of wrapping.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_CHECKED_MATH_H_
