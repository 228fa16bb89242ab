#include "storage/tables/feed_log_tables.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/text.h"

namespace pstrack::sql {

absl::Status SqlFeedLogTables::AddFeedLog(const std::vector<FeedLogRow>& rows) {
  constexpr size_t kPerStatement = 512;
  for (size_t begin = 0, end = 0; begin < rows.size(); begin = end) {
    end = ChunkEnd(begin, rows.size(), kPerStatement);
    DynamicQuery q;
    q.sql = "INSERT INTO feed_log (agency_code, day, metric, count, last_us) VALUES ";
    for (size_t i = begin; i < end; ++i) {
      const FeedLogRow& r = rows[i];
      absl::StrAppend(&q.sql, i > begin ? ", (" : "(", q.Bind(r.agency_code), ", ", q.Bind(r.day), ", ",
                      q.Bind(r.metric), ", ", q.BindInt64(r.count), ", ", q.BindInt64(r.last_us), ")");
    }
    absl::StrAppend(&q.sql,
                    " ON CONFLICT (agency_code, day, metric) DO UPDATE SET count = feed_log.count + excluded.count, "
                    "last_us = CASE WHEN excluded.last_us > feed_log.last_us THEN excluded.last_us "
                    "ELSE feed_log.last_us END");
    PSTRACK_RETURN_IF_ERROR(Execute(q));
  }
  // First and last arrival per agency, from the accepted events.
  std::map<std::string, std::pair<int64_t, int64_t>> last;
  for (const FeedLogRow& r : rows) {
    if (r.metric != "accepted" || r.count <= 0) continue;
    auto [it, inserted] = last.emplace(r.agency_code, std::make_pair(r.last_us, r.last_us));
    if (!inserted) {
      it->second.first = std::min(it->second.first, r.last_us);
      it->second.second = std::max(it->second.second, r.last_us);
    }
  }
  if (last.empty()) return absl::OkStatus();
  DynamicQuery q;
  q.sql = "INSERT INTO feed_last (agency_code, first_us, last_us) VALUES ";
  bool first = true;
  for (const auto& [code, span] : last) {
    absl::StrAppend(&q.sql, first ? "(" : ", (", q.Bind(code), ", ", q.BindInt64(span.first), ", ",
                    q.BindInt64(span.second), ")");
    first = false;
  }
  absl::StrAppend(&q.sql,
                  " ON CONFLICT (agency_code) DO UPDATE SET "
                  "first_us = CASE WHEN excluded.first_us < feed_last.first_us THEN excluded.first_us "
                  "ELSE feed_last.first_us END, "
                  "last_us = CASE WHEN excluded.last_us > feed_last.last_us THEN excluded.last_us "
                  "ELSE feed_last.last_us END");
  return Execute(q);
}

absl::StatusOr<std::vector<FeedLogRow>> SqlFeedLogTables::SumFeedLog(const FeedLogQuery& query) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT agency_code, metric, SUM(count), MAX(last_us) FROM feed_log WHERE day >= ",
                       q.Bind(query.from_day), " AND day < ", q.Bind(query.until_day));
  AppendAgencyFilter(q, query.paths);
  absl::StrAppend(&q.sql, " GROUP BY agency_code, metric ORDER BY agency_code, metric");
  return QueryFeedLog(q, false);
}

absl::StatusOr<std::vector<FeedLogRow>> SqlFeedLogTables::AllFeedLog() {
  DynamicQuery q;
  q.sql = "SELECT agency_code, day, metric, count, last_us FROM feed_log ORDER BY agency_code, day, metric";
  return QueryFeedLog(q, true);
}

absl::StatusOr<std::vector<FeedLast>> SqlFeedLogTables::ListFeedLast(const std::vector<std::string>& paths) {
  DynamicQuery q;
  q.sql = "SELECT agency_code, first_us, last_us FROM feed_last WHERE 1 = 1";
  AppendAgencyFilter(q, paths);
  absl::StrAppend(&q.sql, " ORDER BY agency_code");
  std::vector<FeedLast> out;
  FeedLast r;
  long long first = 0, last = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(r.agency_code));
        st.exchange(Into(first));
        st.exchange(Into(last));
      },
      [&] {
        r.first_us = first;
        r.last_us = last;
        out.push_back(r);
      }));
  return out;
}

absl::StatusOr<std::vector<FeedLogRow>> SqlFeedLogTables::QueryFeedLog(DynamicQuery& q, bool with_day) {
  std::vector<FeedLogRow> out;
  FeedLogRow r;
  long long count = 0, last = 0;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q,
      [&](Columns& st) {
        st.exchange(Into(r.agency_code));
        if (with_day) st.exchange(Into(r.day));
        st.exchange(Into(r.metric));
        st.exchange(Into(count));
        st.exchange(Into(last));
      },
      [&] {
        r.count = count;
        r.last_us = last;
        out.push_back(r);
      }));
  return out;
}

}  // namespace pstrack::sql
