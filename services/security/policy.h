// Who may call what: the one table of RPC permissions. Every pstrack RPC is
// listed (a test checks the table against the service descriptors); the
// RPC guard refuses a method that is not.
#ifndef PSTRACK_SERVICES_SECURITY_POLICY_H_
#define PSTRACK_SERVICES_SECURITY_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/security/api_key.h"

namespace pstrack {

struct MethodPolicy {
  absl::string_view service;  // "pstrack.v1.FilingService"
  absl::string_view method;   // "RecordEvents"
  uint32_t roles = 0;         // bit (1 << Role) per allowed role
  // Writes and admin actions: recorded in the audit log, refusals included.
  bool audited = false;
  // A stream: no default deadline (it runs as long as the client keeps it).
  bool stream = false;
  // Carries a batch (or a stream of events): requests up to the server's
  // largest message; any other request is small (RpcGuard).
  bool batch = false;
  // Bounded by the client's deadline only, not by the server's longest call
  // (--max_call_seconds): the aggregate check, minutes on a large database.
  bool long_running = false;
  // Reads figures, dossiers or the data quality derived from the events:
  // waits first for the projection of the events this server acknowledged
  // (read-your-writes; RpcGuard).
  bool reads_projection = false;

  std::string full_name() const;  // "pstrack.v1.FilingService/RecordEvents"
  bool allows(Role role) const { return (roles >> static_cast<int>(role)) & 1u; }
  std::string allowed_roles() const;  // "analyst, admin"
};

const std::vector<MethodPolicy>& AllMethodPolicies();
// By method name, with or without the service ("RecordEvents" or
// "pstrack.v1.FilingService/RecordEvents"); nullptr when unknown.
const MethodPolicy* FindMethodPolicy(absl::string_view method);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SECURITY_POLICY_H_
