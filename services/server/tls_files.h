// Checks of the PEM files given for TLS, made before the server starts so
// that a wrong file is named with what is wrong with it (gRPC reports any
// problem only as a port it could not add).
#ifndef PSTRACK_SERVICES_SERVER_TLS_FILES_H_
#define PSTRACK_SERVICES_SERVER_TLS_FILES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace pstrack {

// OK when `pem` holds at least one certificate and nothing that is not
// one; INVALID_ARGUMENT naming `what` and `path` otherwise.
absl::Status CheckCertificates(absl::string_view pem, absl::string_view path, absl::string_view what);

// OK when `cert_pem` is a certificate chain, `key_pem` a private key, and
// the key belongs to the chain's first certificate.
absl::Status CheckKeyPair(absl::string_view cert_pem, absl::string_view cert_path, absl::string_view key_pem,
                          absl::string_view key_path);

}  // namespace pstrack

#endif  // PSTRACK_SERVICES_SERVER_TLS_FILES_H_
