// The dashboard's files (services/http/dashboard/), built into the server
// (tools/cmake/embed_files.cmake): nothing to install beside the binary.
#ifndef PSTRACK_SERVICES_HTTP_STATIC_FILES_H_
#define PSTRACK_SERVICES_HTTP_STATIC_FILES_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace pstrack::http {

struct EmbeddedFile {
  const char* name;  // "app.js"
  const unsigned char* data;
  size_t size;
};
extern const EmbeddedFile kDashboardFiles[];
extern const size_t kDashboardFileCount;

struct StaticFile {
  absl::string_view body;
  absl::string_view content_type;
  std::string etag;  // a quoted hash of the bytes
};

// The file at `name` under /dashboard/ ("" is index.html), or null.
const StaticFile* FindDashboardFile(absl::string_view name);

}  // namespace pstrack::http

#endif  // PSTRACK_SERVICES_HTTP_STATIC_FILES_H_
