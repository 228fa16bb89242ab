// Measurement switches: parts of the write path left out, to measure what
// the rest costs (tools/bench_ceilings.sh, docs/BENCHMARKS.md "Ceilings").
// They exist only in a build configured with -DPSTRACK_CEILINGS=ON, which
// no server is ever deployed from: in every other build CeilingOn() is false
// whatever the environment says. With that build, PSTRACK_CEILING names the
// switches, comma-separated, for the process's lifetime.
#ifndef PSTRACK_SERVICES_COMMON_CEILINGS_H_
#define PSTRACK_SERVICES_COMMON_CEILINGS_H_

namespace pstrack {

enum class Ceiling {
  kNoWrite,        // RecordEvent answers after decoding and checking, writes nothing (no audit row either)
  kAuditOnly,      // RecordEvent writes only its audit row
  kNoAggregates,   // event and dossier rows written, aggregate rows not
  kNoDurableWait,  // a write returns after its commit, without waiting for the log flush
  kCachedAuth,     // a token's caller is looked up once per process, not once per call
};

bool CeilingOn(Ceiling c);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_CEILINGS_H_
