#include "services/api/batch_import.h"
#include "services/api/agency_service.h"

#include "absl/strings/str_cat.h"
#include "services/api/convert.h"
#include "services/api/rpc_guard.h"
#include "services/common/status.h"

namespace pstrack {

grpc::Status AgencyServiceImpl::CreateAgency(grpc::ServerContext* context, const v1::CreateAgencyRequest* request,
                                             v1::Agency* response) {
  return guard_.Run(context, "CreateAgency", *request, [&](Call& call) -> absl::Status {
    if (!request->has_agency()) return MissingField("agency");
    call.SetTarget(absl::StrCat("agency ", request->agency().code()));
    PSTRACK_ASSIGN_OR_RETURN(Agency agency, AgencyFromProto(request->agency()));
    PSTRACK_ASSIGN_OR_RETURN(Agency created, registry_.Create(agency));
    AgencyToProto(created, response);
    return absl::OkStatus();
  });
}

grpc::Status AgencyServiceImpl::UpdateAgency(grpc::ServerContext* context, const v1::UpdateAgencyRequest* request,
                                             v1::Agency* response) {
  return guard_.Run(context, "UpdateAgency", *request, [&](Call& call) -> absl::Status {
    if (!request->has_agency()) return MissingField("agency");
    call.SetTarget(absl::StrCat("agency ", request->agency().code()));
    if (!request->has_update_mask() || request->update_mask().paths().empty()) {
      return InvalidField("update_mask", "name at least one field to change");
    }
    std::vector<AgencyField> mask;
    for (const std::string& path : request->update_mask().paths()) {
      PSTRACK_ASSIGN_OR_RETURN(AgencyField f, ParseAgencyField(path));
      mask.push_back(f);
    }
    PSTRACK_ASSIGN_OR_RETURN(Agency changes, AgencyFromProto(request->agency()));
    if (request->expected_revision() < 0) return InvalidField("expected_revision", "must not be negative");
    PSTRACK_ASSIGN_OR_RETURN(Agency updated, registry_.Update(changes, mask, request->expected_revision()));
    AgencyToProto(updated, response);
    return absl::OkStatus();
  });
}

grpc::Status AgencyServiceImpl::GetAgency(grpc::ServerContext* context, const v1::GetAgencyRequest* request,
                                          v1::Agency* response) {
  return guard_.Run(context, "GetAgency", *request, [&]() -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Agency agency, registry_.Get(request->code()));
    AgencyToProto(agency, response);
    return absl::OkStatus();
  });
}

grpc::Status AgencyServiceImpl::ListAgencies(grpc::ServerContext* context, const v1::ListAgenciesRequest* request,
                                             v1::ListAgenciesResponse* response) {
  return guard_.Run(context, "ListAgencies", *request, [&]() -> absl::Status {
    AgencyListRequest r;
    r.root_code = request->root_code();
    r.max_depth = request->max_depth();
    if (request->level() < 0 || request->level() > kMaxAgencyLevel) {
      return InvalidField("level", absl::StrCat("unknown level ", request->level()));
    }
    r.level = static_cast<AgencyLevel>(request->level());
    if (request->has_as_of()) {
      PSTRACK_ASSIGN_OR_RETURN(r.as_of, DateFromProto(request->as_of(), "as_of"));
    }
    r.name_contains = request->name_contains();
    r.page_size = request->page_size();
    r.page_token = request->page_token();
    PSTRACK_ASSIGN_OR_RETURN(AgencyListPage page, registry_.List(r));
    for (const Agency& a : page.agencies) AgencyToProto(a, response->add_agencies());
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::Status AgencyServiceImpl::ImportAgencies(grpc::ServerContext* context,
                                               const v1::ImportAgenciesRequest* request,
                                               v1::ImportAgenciesResponse* response) {
  return guard_.Run(context, "ImportAgencies", *request, [&](Call& call) -> absl::Status {
    PSTRACK_RETURN_IF_ERROR(CheckBatchSize("items", request->items_size(), "agencies"));
    // Items that fail translation are reported without reaching the registry.
    std::vector<ItemOutcome> outcomes = ImportItems<AgencyImportItem>(
        request->items_size(),
        [&](int i, ItemOutcome& o) -> absl::StatusOr<AgencyImportItem> {
          const auto& item = request->items(i);
          o.key = item.agency().code();
          o.source_line = item.source_line();
          PSTRACK_ASSIGN_OR_RETURN(Agency agency, AgencyFromProto(item.agency()));
          return AgencyImportItem{std::move(agency), item.source_line()};
        },
        [&](std::vector<AgencyImportItem> items) { return registry_.Import(items); });
    call.SetTarget(absl::StrCat(outcomes.size(), " agencies, first ", outcomes.front().key));
    call.SetCounts(CountOutcomes(outcomes));
    for (const auto& o : outcomes) ItemOutcomeToProto(o, response->add_results());
    BatchSummaryToProto(outcomes, response->mutable_summary());
    return absl::OkStatus();
  });
}

grpc::Status AgencyServiceImpl::ResolveSuccessor(grpc::ServerContext* context,
                                                 const v1::ResolveSuccessorRequest* request,
                                                 v1::ResolveSuccessorResponse* response) {
  return guard_.Run(context, "ResolveSuccessor", *request, [&]() -> absl::Status {
    if (!request->has_as_of()) return MissingField("as_of");
    PSTRACK_ASSIGN_OR_RETURN(Date as_of, DateFromProto(request->as_of(), "as_of"));
    PSTRACK_ASSIGN_OR_RETURN(SuccessorResolution r, registry_.ResolveSuccessor(request->code(), as_of));
    AgencyToProto(r.agency, response->mutable_agency());
    for (const auto& c : r.lineage) response->add_lineage(c);
    return absl::OkStatus();
  });
}

}  // namespace pstrack
