// The entry point of a fuzz target: libFuzzer's LLVMFuzzerTestOneInput.
// Built with clang's -fsanitize=fuzzer (PSTRACK_LIBFUZZER=ON) each target
// is a libFuzzer binary; otherwise it links tests/fuzz/driver.cc, which
// runs the seed corpus and deterministic mutations of it (CI, under the
// sanitizer build). A target returns 0 and aborts (via PSTRACK_FUZZ_CHECK)
// when a property it checks fails.
#ifndef PSTRACK_TESTS_FUZZ_FUZZ_TARGET_H_
#define PSTRACK_TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define PSTRACK_FUZZ_CHECK(cond)                                                       \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

namespace pstrack::fuzz {

inline absl::string_view Text(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace pstrack::fuzz

#endif  // PSTRACK_TESTS_FUZZ_FUZZ_TARGET_H_
