#include "storage/tables/agency_tables.h"

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

namespace {

// Column variables for one agency row.
struct AgencyRow {
  std::string code, name, admin_code, path;
  int level = 0, depth = 0;
  NullableText parent_code, valid_from, valid_until, successor_code;
  long long revision = 0, create_us = 0, update_us = 0;

  static constexpr const char* kColumns =
      "code, name, level, parent_code, admin_code, valid_from, valid_until, successor_code, path, "
      "depth, revision, create_time_us, update_time_us";

  void Exchange(Columns& st) {
    st.exchange(Into(code));
    st.exchange(Into(name));
    st.exchange(Into(level));
    st.exchange(Into(parent_code.value, parent_code.ind));
    st.exchange(Into(admin_code));
    st.exchange(Into(valid_from.value, valid_from.ind));
    st.exchange(Into(valid_until.value, valid_until.ind));
    st.exchange(Into(successor_code.value, successor_code.ind));
    st.exchange(Into(path));
    st.exchange(Into(depth));
    st.exchange(Into(revision));
    st.exchange(Into(create_us));
    st.exchange(Into(update_us));
  }

  Agency ToAgency() const {
    Agency a;
    a.code = code;
    a.name = name;
    a.level = static_cast<AgencyLevel>(level);
    a.parent_code = parent_code.get();
    a.admin_code = admin_code;
    a.valid_from = ReadDate(valid_from);
    a.valid_until = ReadDate(valid_until);
    a.successor_code = successor_code.get();
    a.path = path;
    a.depth = depth;
    a.revision = revision;
    a.create_time = FromMicros(create_us);
    a.update_time = FromMicros(update_us);
    return a;
  }
};

struct BoundAgency {
  explicit BoundAgency(const Agency& a)
      : code(a.code),
        name(a.name),
        folded(FoldForSearch(a.name)),
        parent(a.parent_code),
        admin(a.admin_code),
        vfrom(FormatOptionalDate(a.valid_from)),
        vuntil(FormatOptionalDate(a.valid_until)),
        succ(a.successor_code),
        path(a.path),
        level(static_cast<int>(a.level)),
        depth(a.depth),
        rev(a.revision),
        ct(ToMicros(a.create_time)),
        ut(ToMicros(a.update_time)) {
    parent_ind = parent.empty() ? soci::i_null : soci::i_ok;
    succ_ind = succ.empty() ? soci::i_null : soci::i_ok;
    vfrom_ind = a.valid_from ? soci::i_ok : soci::i_null;
    vuntil_ind = a.valid_until ? soci::i_ok : soci::i_null;
  }
  std::string code, name, folded, parent, admin, vfrom, vuntil, succ, path;
  int level, depth;
  long long rev, ct, ut;
  soci::indicator parent_ind, succ_ind, vfrom_ind, vuntil_ind;
};

}  // namespace

absl::StatusOr<std::optional<Agency>> SqlAgencyTables::FindAgency(absl::string_view code) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT ", AgencyRow::kColumns, " FROM agencies WHERE code = ", q.Bind(std::string(code)));
  PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryAgencies(q));
  if (rows.empty()) return std::optional<Agency>();
  return std::optional<Agency>(std::move(rows.front()));
}

absl::StatusOr<std::vector<Agency>> SqlAgencyTables::FindAgencies(const std::vector<std::string>& codes) {
  return FindByCodes<Agency>(absl::StrCat("SELECT ", AgencyRow::kColumns, " FROM agencies"), codes,
                             [&](DynamicQuery& q) { return QueryAgencies(q); });
}

absl::StatusOr<std::vector<Agency>> SqlAgencyTables::ListAgencies(const AgencyQuery& query) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT ", AgencyRow::kColumns, " FROM agencies WHERE 1 = 1");
  if (!query.root_path.empty()) {
    absl::StrAppend(&q.sql, " AND (path = ", q.Bind(query.root_path), " OR (path >= ", q.Bind(query.root_path + "/"),
                    " AND path < ", q.Bind(SubtreeEnd(query.root_path)), "))");
  }
  if (query.max_depth > 0) absl::StrAppend(&q.sql, " AND depth <= ", q.Bind(query.max_depth));
  if (query.level != AgencyLevel::kUnspecified) {
    absl::StrAppend(&q.sql, " AND level = ", q.Bind(static_cast<int>(query.level)));
  }
  if (query.as_of) {
    std::string d = FormatDate(*query.as_of);
    absl::StrAppend(&q.sql, " AND (valid_from IS NULL OR valid_from <= ", q.Bind(d),
                    ") AND (valid_until IS NULL OR valid_until > ", q.Bind(d), ")");
  }
  if (!query.name_folded.empty()) {
    absl::StrAppend(&q.sql, " AND name_folded LIKE ", q.Bind(LikePattern(query.name_folded)), " ESCAPE '\\'");
  }
  if (query.ended_only) absl::StrAppend(&q.sql, " AND valid_until IS NOT NULL");
  if (!query.after_path.empty()) absl::StrAppend(&q.sql, " AND path > ", q.Bind(query.after_path));
  absl::StrAppend(&q.sql, " ORDER BY path LIMIT ", q.Bind(query.limit));
  return QueryAgencies(q);
}

absl::Status SqlAgencyTables::InsertAgency(const Agency& a) {
  PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
  return Guard([&] {
    BoundAgency b(a);
    sql_ << "INSERT INTO agencies (code, name, name_folded, level, parent_code, admin_code, valid_from, "
            "valid_until, successor_code, path, depth, revision, create_time_us, update_time_us) VALUES "
            "(:code, :name, :folded, :level, :parent, :admin, :vfrom, :vuntil, :succ, :path, :depth, "
            ":rev, :ct, :ut)",
        soci::use(b.code), soci::use(b.name), soci::use(b.folded), soci::use(b.level),
        soci::use(b.parent, b.parent_ind), soci::use(b.admin), soci::use(b.vfrom, b.vfrom_ind),
        soci::use(b.vuntil, b.vuntil_ind), soci::use(b.succ, b.succ_ind), soci::use(b.path), soci::use(b.depth),
        soci::use(b.rev), soci::use(b.ct), soci::use(b.ut);
  });
}

absl::Status SqlAgencyTables::UpdateAgency(const Agency& a) {
  PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
  return Guard([&] {
    BoundAgency b(a);
    sql_ << "UPDATE agencies SET name = :name, name_folded = :folded, level = :level, parent_code = :parent, "
            "admin_code = :admin, valid_from = :vfrom, valid_until = :vuntil, successor_code = :succ, "
            "path = :path, depth = :depth, revision = :rev, create_time_us = :ct, update_time_us = :ut "
            "WHERE code = :code",
        soci::use(b.name), soci::use(b.folded), soci::use(b.level), soci::use(b.parent, b.parent_ind),
        soci::use(b.admin), soci::use(b.vfrom, b.vfrom_ind), soci::use(b.vuntil, b.vuntil_ind),
        soci::use(b.succ, b.succ_ind), soci::use(b.path), soci::use(b.depth), soci::use(b.rev), soci::use(b.ct),
        soci::use(b.ut), soci::use(b.code);
  });
}

absl::Status SqlAgencyTables::MoveDescendants(absl::string_view old_path, absl::string_view new_path, int depth_delta) {
  PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
  return Guard([&] {
    std::string lo = absl::StrCat(old_path, "/"), hi = SubtreeEnd(old_path);
    std::string new_prefix(new_path);
    int cut = static_cast<int>(old_path.size()) + 1;  // SQL substr is 1-based
    sql_ << "UPDATE agencies SET path = :np || substr(path, :cut), depth = depth + :dd "
            "WHERE path >= :lo AND path < :hi",
        soci::use(new_prefix), soci::use(cut), soci::use(depth_delta), soci::use(lo), soci::use(hi);
  });
}

absl::StatusOr<std::vector<Agency>> SqlAgencyTables::QueryAgencies(DynamicQuery& q) {
  std::vector<Agency> out;
  AgencyRow row;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q, [&](Columns& st) { row.Exchange(st); }, [&] { out.push_back(row.ToAgency()); }));
  return out;
}

}  // namespace pstrack::sql
