#include "services/api/convert.h"

#include "services/common/grpc_status.h"
#include "services/common/text.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace pstrack {

void DateToProto(Date d, v1::Date* out) {
  out->set_year(static_cast<int32_t>(d.year()));
  out->set_month(d.month());
  out->set_day(d.day());
}

absl::StatusOr<Date> DateFromProto(const v1::Date& d, absl::string_view field) {
  return MakeDate(d.year(), d.month(), d.day(), field);
}

void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  int64_t us = absl::ToUnixMicros(t);
  int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  out->set_seconds(secs);
  out->set_nanos(static_cast<int32_t>((us - secs * 1000000) * 1000));
}

void AgencyToProto(const Agency& a, v1::Agency* out) {
  out->set_code(a.code);
  out->set_name(a.name);
  out->set_level(static_cast<v1::AgencyLevel>(a.level));
  out->set_parent_code(a.parent_code);
  out->set_admin_code(a.admin_code);
  if (a.valid_from) DateToProto(*a.valid_from, out->mutable_valid_from());
  if (a.valid_until) DateToProto(*a.valid_until, out->mutable_valid_until());
  out->set_successor_code(a.successor_code);
  out->set_path(a.path);
  out->set_depth(a.depth);
  out->set_revision(a.revision);
  TimeToProto(a.create_time, out->mutable_create_time());
  TimeToProto(a.update_time, out->mutable_update_time());
}

absl::StatusOr<Agency> AgencyFromProto(const v1::Agency& in, absl::string_view field) {
  auto f = [&](absl::string_view name) { return absl::StrCat(field, ".", name); };
  Agency a;
  a.code = in.code();
  a.name = in.name();
  if (in.level() < 0 || in.level() > kMaxAgencyLevel) {
    return InvalidField(f("level"), absl::StrCat("unknown level ", in.level()));
  }
  a.level = static_cast<AgencyLevel>(in.level());
  a.parent_code = in.parent_code();
  a.admin_code = in.admin_code();
  if (in.has_valid_from()) {
    PSTRACK_ASSIGN_OR_RETURN(a.valid_from, DateFromProto(in.valid_from(), f("valid_from")));
  }
  if (in.has_valid_until()) {
    PSTRACK_ASSIGN_OR_RETURN(a.valid_until, DateFromProto(in.valid_until(), f("valid_until")));
  }
  a.successor_code = in.successor_code();
  return a;
}

void ProcedureToProto(const Procedure& p, v1::Procedure* out) {
  out->set_code(p.code);
  out->set_name(p.name);
  out->set_field(p.field);
  for (AgencyLevel l : p.levels) out->add_levels(static_cast<v1::AgencyLevel>(l));
  for (const auto& c : p.agency_codes) out->add_agency_codes(c);
  out->set_online_mode(static_cast<v1::OnlineServiceMode>(p.online_mode));
  out->set_full_online_eligible(p.full_online_eligible);
  out->mutable_resolution_time()->set_amount(p.resolution_amount);
  out->mutable_resolution_time()->set_unit(static_cast<v1::ResolutionTimeUnit>(p.resolution_unit));
  out->set_fee_bearing(p.fee_bearing);
  out->set_online_payment_integrated(p.online_payment_integrated);
  out->set_population_db_connected(p.population_db_connected);
  if (p.valid_from) DateToProto(*p.valid_from, out->mutable_valid_from());
  if (p.valid_until) DateToProto(*p.valid_until, out->mutable_valid_until());
  out->set_revision(p.revision);
  TimeToProto(p.create_time, out->mutable_create_time());
  TimeToProto(p.update_time, out->mutable_update_time());
}

absl::StatusOr<Procedure> ProcedureFromProto(const v1::Procedure& in, absl::string_view field) {
  auto f = [&](absl::string_view name) { return absl::StrCat(field, ".", name); };
  Procedure p;
  p.code = in.code();
  p.name = in.name();
  p.field = in.field();
  for (int l : in.levels()) {
    if (l <= 0 || l > kMaxAgencyLevel) return InvalidField(f("levels"), absl::StrCat("unknown level ", l));
    p.levels.push_back(static_cast<AgencyLevel>(l));
  }
  p.agency_codes.assign(in.agency_codes().begin(), in.agency_codes().end());
  if (in.online_mode() < 0 || in.online_mode() > 3) {
    return InvalidField(f("online_mode"), absl::StrCat("unknown mode ", in.online_mode()));
  }
  p.online_mode = static_cast<OnlineMode>(in.online_mode());
  p.full_online_eligible = in.full_online_eligible();
  if (!in.has_resolution_time()) return MissingField(f("resolution_time"));
  if (in.resolution_time().unit() < 0 || in.resolution_time().unit() > 2) {
    return InvalidField(f("resolution_time.unit"), absl::StrCat("unknown unit ", in.resolution_time().unit()));
  }
  p.resolution_amount = in.resolution_time().amount();
  p.resolution_unit = static_cast<TimeUnit>(in.resolution_time().unit());
  p.fee_bearing = in.fee_bearing();
  p.online_payment_integrated = in.online_payment_integrated();
  p.population_db_connected = in.population_db_connected();
  if (in.has_valid_from()) {
    PSTRACK_ASSIGN_OR_RETURN(p.valid_from, DateFromProto(in.valid_from(), f("valid_from")));
  }
  if (in.has_valid_until()) {
    PSTRACK_ASSIGN_OR_RETURN(p.valid_until, DateFromProto(in.valid_until(), f("valid_until")));
  }
  p.Normalize();
  return p;
}

void ItemOutcomeToProto(const ItemOutcome& o, v1::ItemResult* out) {
  out->set_index(o.index);
  out->set_key(o.key);
  out->set_source_line(o.source_line);
  switch (o.outcome) {
    case WriteOutcome::kApplied: out->set_outcome(v1::ItemResult::OUTCOME_APPLIED); break;
    case WriteOutcome::kUnchanged: out->set_outcome(v1::ItemResult::OUTCOME_UNCHANGED); break;
    case WriteOutcome::kRejected:
      out->set_outcome(v1::ItemResult::OUTCOME_REJECTED);
      out->set_code(static_cast<int32_t>(o.status.code()));
      out->set_message(TruncateUtf8(o.status.message(), kMaxStatusMessageBytes));
      break;
  }
}

void BatchSummaryToProto(const std::vector<ItemOutcome>& outcomes, v1::BatchSummary* out) {
  BatchCounts c = CountOutcomes(outcomes);
  out->set_applied(c.applied);
  out->set_unchanged(c.unchanged);
  out->set_rejected(c.rejected);
}

}  // namespace pstrack
