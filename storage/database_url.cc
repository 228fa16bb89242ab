#include "storage/database_url.h"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      if (absl::SimpleHexAtoi(s.substr(i + 1, 2), &v)) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// libpq keyword/value quoting: single quotes, backslash-escaped.
std::string Quote(absl::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

absl::StatusOr<std::string> PostgresKeywordString(absl::string_view url) {
  std::string_view rest(url.data(), url.size());
  size_t scheme = rest.find("://");
  rest.remove_prefix(scheme + 3);
  std::string query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  std::string dbname;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    dbname = PercentDecode(absl::string_view(rest.data() + slash + 1, rest.size() - slash - 1));
    rest = rest.substr(0, slash);
  }
  std::string user, password;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = credentials.find(':');
    user = PercentDecode(absl::string_view(credentials.data(), std::min(colon, credentials.size())));
    if (colon != std::string_view::npos) {
      password = PercentDecode(absl::string_view(credentials.data() + colon + 1, credentials.size() - colon - 1));
    }
  }
  // host[:port], or a list of them for failover (h1:5432,h2:5432): libpq
  // tries them in turn (with target_session_attrs=read-write, until one
  // takes writes).
  std::vector<std::string> hosts, ports;
  for (absl::string_view one : absl::StrSplit(absl::string_view(rest.data(), rest.size()), ',')) {
    std::string h(one), p;
    if (!h.empty() && h.front() == '[') {  // [::1]:5432
      size_t close = h.find(']');
      if (close == std::string::npos) return absl::InvalidArgumentError("db: malformed IPv6 host in the URL");
      if (close + 1 < h.size() && h[close + 1] == ':') p = h.substr(close + 2);
      h = h.substr(1, close - 1);
    } else if (size_t colon = h.rfind(':'); colon != std::string::npos) {
      p = h.substr(colon + 1);
      h = h.substr(0, colon);
    }
    if (h.empty() && rest.find(',') != std::string_view::npos) {
      return absl::InvalidArgumentError("db: an empty host in the URL's list of hosts");
    }
    hosts.push_back(PercentDecode(h));
    ports.push_back(p);
  }
  const std::string host = absl::StrJoin(hosts, ",");
  // Empty entries take the default port; no port at all leaves it out.
  std::string port = absl::StrJoin(ports, ",");
  if (std::all_of(ports.begin(), ports.end(), [](const std::string& p) { return p.empty(); })) port.clear();
  std::string out;
  auto add = [&](absl::string_view key, const std::string& value) {
    if (!value.empty()) absl::StrAppend(&out, out.empty() ? "" : " ", key, "=", Quote(value));
  };
  add("host", host);
  add("port", port);
  add("dbname", dbname);
  add("user", user);
  add("password", password);
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) return absl::InvalidArgumentError(absl::StrCat("db: malformed URL parameter '", kv, "'"));
    add(kv.substr(0, eq), PercentDecode(kv.substr(eq + 1)));
  }
  if (out.empty()) return absl::InvalidArgumentError("db: the PostgreSQL URL names no host or database");
  return out;
}

absl::StatusOr<DatabaseUrl> ParseDatabaseUrl(absl::string_view url) {
  DatabaseUrl out;
  if (url.empty()) return absl::InvalidArgumentError("db: the database URL is empty");
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
    out.backend = DatabaseUrl::Backend::kPostgresql;
    PSTRACK_ASSIGN_OR_RETURN(out.target, PostgresKeywordString(url));
    return out;
  }
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "sqlite:")) {
    if (absl::StartsWith(rest, "//")) rest.remove_prefix(2);  // sqlite:///abs -> /abs
  } else if (rest.find("://") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("db: unsupported database URL '", url,
                     "'; use sqlite:///path/to/file.db or postgresql://user@host:port/dbname"));
  }
  if (rest.empty()) return absl::InvalidArgumentError("db: the SQLite file path is empty");
  out.target = std::string(rest);
  return out;
}

}  // namespace pstrack
