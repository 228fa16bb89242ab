#include "services/http/static_files.h"

#include <functional>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pstrack::http {
namespace {

absl::string_view ContentType(absl::string_view name) {
  if (absl::EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(name, ".svg")) return "image/svg+xml";
  if (absl::EndsWith(name, ".png")) return "image/png";
  if (absl::EndsWith(name, ".json")) return "application/json; charset=utf-8";
  return "application/octet-stream";
}

const absl::flat_hash_map<std::string, StaticFile>& Files() {
  static const auto* files = [] {
    auto* m = new absl::flat_hash_map<std::string, StaticFile>();
    for (size_t i = 0; i < kDashboardFileCount; ++i) {
      const EmbeddedFile& f = kDashboardFiles[i];
      const absl::string_view body(reinterpret_cast<const char*>(f.data), f.size);
      (*m)[f.name] = StaticFile{body, ContentType(f.name),
                                absl::StrCat("\"", absl::Hex(std::hash<std::string_view>()(std::string_view(body.data(), body.size()))), "\"")};
    }
    return m;
  }();
  return *files;
}

}  // namespace

const StaticFile* FindDashboardFile(absl::string_view name) {
  if (name.empty()) name = "index.html";
  auto it = Files().find(name);
  return it == Files().end() ? nullptr : &it->second;
}

}  // namespace pstrack::http
