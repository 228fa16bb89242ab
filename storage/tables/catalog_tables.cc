#include "storage/tables/catalog_tables.h"

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

struct ProcedureRow {
  std::string code, name, field;
  int levels_mask = 0, online_mode = 0, eligible = 0, amount = 0, unit = 0, fee = 0, pay = 0, popdb = 0;
  NullableText valid_from, valid_until;
  long long revision = 0, create_us = 0, update_us = 0;

  static constexpr const char* kColumns =
      "code, name, field, levels_mask, online_mode, full_online_eligible, resolution_amount, "
      "resolution_unit, fee_bearing, online_payment_integrated, population_db_connected, "
      "valid_from, valid_until, revision, create_time_us, update_time_us";

  void Exchange(Columns& st) {
    st.exchange(Into(code));
    st.exchange(Into(name));
    st.exchange(Into(field));
    st.exchange(Into(levels_mask));
    st.exchange(Into(online_mode));
    st.exchange(Into(eligible));
    st.exchange(Into(amount));
    st.exchange(Into(unit));
    st.exchange(Into(fee));
    st.exchange(Into(pay));
    st.exchange(Into(popdb));
    st.exchange(Into(valid_from.value, valid_from.ind));
    st.exchange(Into(valid_until.value, valid_until.ind));
    st.exchange(Into(revision));
    st.exchange(Into(create_us));
    st.exchange(Into(update_us));
  }

  Procedure ToProcedure() const {
    Procedure p;
    p.code = code;
    p.name = name;
    p.field = field;
    for (int i = 1; i <= kMaxAgencyLevel; ++i) {
      if (levels_mask & (1 << i)) p.levels.push_back(static_cast<AgencyLevel>(i));
    }
    p.online_mode = static_cast<OnlineMode>(online_mode);
    p.full_online_eligible = eligible != 0;
    p.resolution_amount = static_cast<uint32_t>(amount);
    p.resolution_unit = static_cast<TimeUnit>(unit);
    p.fee_bearing = fee != 0;
    p.online_payment_integrated = pay != 0;
    p.population_db_connected = popdb != 0;
    p.valid_from = ReadDate(valid_from);
    p.valid_until = ReadDate(valid_until);
    p.revision = revision;
    p.create_time = FromMicros(create_us);
    p.update_time = FromMicros(update_us);
    return p;
  }
};

int LevelsMask(const std::vector<AgencyLevel>& levels) {
  int mask = 0;
  for (AgencyLevel l : levels) mask |= 1 << static_cast<int>(l);
  return mask;
}

}  // namespace

absl::StatusOr<std::optional<Procedure>> SqlCatalogTables::FindProcedure(absl::string_view code) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT ", ProcedureRow::kColumns, " FROM procedures WHERE code = ", q.Bind(std::string(code)));
  PSTRACK_ASSIGN_OR_RETURN(auto rows, QueryProcedures(q));
  if (rows.empty()) return std::optional<Procedure>();
  return std::optional<Procedure>(std::move(rows.front()));
}

absl::StatusOr<std::vector<Procedure>> SqlCatalogTables::FindProcedures(const std::vector<std::string>& codes) {
  return FindByCodes<Procedure>(absl::StrCat("SELECT ", ProcedureRow::kColumns, " FROM procedures"), codes,
                                [&](DynamicQuery& q) { return QueryProcedures(q); });
}

absl::StatusOr<std::vector<Procedure>> SqlCatalogTables::ListProcedures(const ProcedureQuery& query) {
  DynamicQuery q;
  q.sql = absl::StrCat("SELECT ", ProcedureRow::kColumns, " FROM procedures WHERE 1 = 1");
  if (!query.field.empty()) absl::StrAppend(&q.sql, " AND field = ", q.Bind(query.field));
  if (query.online_mode != OnlineMode::kUnspecified) {
    absl::StrAppend(&q.sql, " AND online_mode = ", q.Bind(static_cast<int>(query.online_mode)));
  }
  if (!query.agency_code.empty()) {
    absl::StrAppend(&q.sql,
                    " AND (EXISTS (SELECT 1 FROM procedure_agencies pa WHERE pa.procedure_code = "
                    "procedures.code AND pa.agency_code = ",
                    q.Bind(query.agency_code), ")");
    if (query.agency_level != AgencyLevel::kUnspecified) {
      absl::StrAppend(&q.sql, " OR (levels_mask & ", q.Bind(1 << static_cast<int>(query.agency_level)), ") <> 0");
    }
    absl::StrAppend(&q.sql, ")");
  }
  if (query.level != AgencyLevel::kUnspecified) {
    absl::StrAppend(&q.sql, " AND (levels_mask & ", q.Bind(1 << static_cast<int>(query.level)), ") <> 0");
  }
  if (query.as_of) {
    std::string d = FormatDate(*query.as_of);
    absl::StrAppend(&q.sql, " AND (valid_from IS NULL OR valid_from <= ", q.Bind(d),
                    ") AND (valid_until IS NULL OR valid_until > ", q.Bind(d), ")");
  }
  if (!query.query_folded.empty()) {
    absl::StrAppend(&q.sql, " AND (code = ", q.Bind(query.query_folded), " OR name_folded LIKE ",
                    q.Bind(LikePattern(query.query_folded)), " ESCAPE '\\')");
  }
  if (query.full_online_eligible) {
    absl::StrAppend(&q.sql, " AND full_online_eligible = ", q.Bind(*query.full_online_eligible ? 1 : 0));
  }
  if (query.fee_bearing) {
    absl::StrAppend(&q.sql, " AND fee_bearing = ", q.Bind(*query.fee_bearing ? 1 : 0));
  }
  if (!query.after_code.empty()) absl::StrAppend(&q.sql, " AND code > ", q.Bind(query.after_code));
  absl::StrAppend(&q.sql, " ORDER BY code LIMIT ", q.Bind(query.limit));
  return QueryProcedures(q);
}

absl::Status SqlCatalogTables::PutProcedure(const Procedure& p) {
  PSTRACK_RETURN_IF_ERROR(BumpReferenceVersion());
  PSTRACK_RETURN_IF_ERROR(Guard([&] {
    std::string code = p.code, name = p.name, folded = FoldForSearch(p.name), field = p.field;
    int mask = LevelsMask(p.levels), mode = static_cast<int>(p.online_mode), eligible = p.full_online_eligible,
        amount = static_cast<int>(p.resolution_amount), unit = static_cast<int>(p.resolution_unit), fee = p.fee_bearing,
        pay = p.online_payment_integrated, popdb = p.population_db_connected;
    std::string vfrom = FormatOptionalDate(p.valid_from), vuntil = FormatOptionalDate(p.valid_until);
    soci::indicator vfrom_ind = p.valid_from ? soci::i_ok : soci::i_null;
    soci::indicator vuntil_ind = p.valid_until ? soci::i_ok : soci::i_null;
    long long rev = p.revision, ct = ToMicros(p.create_time), ut = ToMicros(p.update_time);
    sql_ << "INSERT INTO procedures (code, name, name_folded, field, levels_mask, online_mode, "
            "full_online_eligible, resolution_amount, resolution_unit, fee_bearing, "
            "online_payment_integrated, population_db_connected, valid_from, valid_until, revision, "
            "create_time_us, update_time_us) VALUES (:code, :name, :folded, :field, :mask, :mode, :elig, "
            ":amount, :unit, :fee, :pay, :popdb, :vfrom, :vuntil, :rev, :ct, :ut) "
            "ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_folded = excluded.name_folded, "
            "field = excluded.field, levels_mask = excluded.levels_mask, online_mode = excluded.online_mode, "
            "full_online_eligible = excluded.full_online_eligible, "
            "resolution_amount = excluded.resolution_amount, resolution_unit = excluded.resolution_unit, "
            "fee_bearing = excluded.fee_bearing, online_payment_integrated = excluded.online_payment_integrated, "
            "population_db_connected = excluded.population_db_connected, valid_from = excluded.valid_from, "
            "valid_until = excluded.valid_until, revision = excluded.revision, "
            "create_time_us = excluded.create_time_us, update_time_us = excluded.update_time_us",
        soci::use(code), soci::use(name), soci::use(folded), soci::use(field), soci::use(mask), soci::use(mode),
        soci::use(eligible), soci::use(amount), soci::use(unit), soci::use(fee), soci::use(pay), soci::use(popdb),
        soci::use(vfrom, vfrom_ind), soci::use(vuntil, vuntil_ind), soci::use(rev), soci::use(ct), soci::use(ut);
    sql_ << "DELETE FROM procedure_agencies WHERE procedure_code = :code", soci::use(code);
  }));
  if (p.agency_codes.empty()) return absl::OkStatus();
  // One multi-row INSERT for the whole list.
  DynamicQuery q;
  q.sql = "INSERT INTO procedure_agencies (procedure_code, agency_code) VALUES ";
  for (size_t i = 0; i < p.agency_codes.size(); ++i) {
    absl::StrAppend(&q.sql, i ? ", (" : "(", q.Bind(p.code), ", ", q.Bind(p.agency_codes[i]), ")");
  }
  return Execute(q);
}

absl::StatusOr<std::string> SqlCatalogTables::ReferenceVersion() {
  long long version = 0;
  PSTRACK_RETURN_IF_ERROR(
      Guard([&] { sql_ << "SELECT version FROM reference_version WHERE id = 1", soci::into(version); }));
  return absl::StrCat(version);
}

absl::StatusOr<std::vector<Procedure>> SqlCatalogTables::QueryProcedures(DynamicQuery& q) {
  std::vector<Procedure> out;
  ProcedureRow row;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      q, [&](Columns& st) { row.Exchange(st); }, [&] { out.push_back(row.ToProcedure()); }));
  if (out.empty()) return out;
  // Agency lists in one query for the whole page.
  DynamicQuery aq;
  aq.sql = "SELECT procedure_code, agency_code FROM procedure_agencies WHERE procedure_code IN (";
  for (size_t i = 0; i < out.size(); ++i) absl::StrAppend(&aq.sql, i ? ", " : "", aq.Bind(out[i].code));
  absl::StrAppend(&aq.sql, ") ORDER BY procedure_code, agency_code");
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < out.size(); ++i) index[out[i].code] = i;
  std::string pcode, acode;
  PSTRACK_RETURN_IF_ERROR(Fetch(
      aq,
      [&](Columns& st) {
        st.exchange(Into(pcode));
        st.exchange(Into(acode));
      },
      [&] { out[index[pcode]].agency_codes.push_back(acode); }));
  return out;
}

}  // namespace pstrack::sql
