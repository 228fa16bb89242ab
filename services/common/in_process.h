// A secret made once per process, for calls that one part of the server
// makes to another over gRPC's in-process channel (the HTTP gateway,
// services/http/). Metadata that carries it is trusted as coming from this
// process; no outside client can know it.
#ifndef PSTRACK_SERVICES_COMMON_IN_PROCESS_H_
#define PSTRACK_SERVICES_COMMON_IN_PROCESS_H_

#include <string>

namespace pstrack {

// Metadata keys of in-process calls: the secret, and the address of the
// HTTP client a gateway call is made for (for the audit).
inline constexpr char kInProcessSecretKey[] = "x-pstrack-in-process";
inline constexpr char kHttpPeerKey[] = "x-pstrack-http-peer";

// 32 hex digits from the system's random source, the same for the life of
// the process.
const std::string& InProcessSecret();

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_COMMON_IN_PROCESS_H_
