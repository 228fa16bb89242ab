#include "services/common/in_process.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace pstrack {

const std::string& InProcessSecret() {
  static const std::string secret = [] {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
      std::fputs("pstrack: no random bytes for the in-process secret\n", stderr);
      std::abort();
    }
    return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  }();
  return secret;
}

}  // namespace pstrack
