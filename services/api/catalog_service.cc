#include "services/api/batch_import.h"
#include "services/api/catalog_service.h"

#include "absl/strings/str_cat.h"
#include "services/api/convert.h"
#include "services/api/rpc_guard.h"
#include "services/common/status.h"

namespace pstrack {
namespace {

absl::StatusOr<std::optional<bool>> FromTristate(v1::ListProceduresRequest::Tristate t, absl::string_view field) {
  switch (t) {
    case v1::ListProceduresRequest::TRISTATE_UNSPECIFIED: return std::optional<bool>();
    case v1::ListProceduresRequest::TRISTATE_TRUE: return std::optional<bool>(true);
    case v1::ListProceduresRequest::TRISTATE_FALSE: return std::optional<bool>(false);
    default: return InvalidField(field, absl::StrCat("unknown value ", static_cast<int>(t)));
  }
}

}  // namespace

grpc::Status CatalogServiceImpl::UpsertProcedure(grpc::ServerContext* context,
                                                 const v1::UpsertProcedureRequest* request,
                                                 v1::UpsertProcedureResponse* response) {
  return guard_.Run(context, "UpsertProcedure", *request, [&](Call& call) -> absl::Status {
    if (!request->has_procedure()) return MissingField("procedure");
    call.SetTarget(absl::StrCat("procedure ", request->procedure().code()));
    PSTRACK_ASSIGN_OR_RETURN(Procedure p, ProcedureFromProto(request->procedure()));
    PSTRACK_ASSIGN_OR_RETURN(UpsertResult r, catalog_.Upsert(std::move(p), request->expected_revision()));
    ProcedureToProto(r.procedure, response->mutable_procedure());
    response->set_unchanged(r.unchanged);
    return absl::OkStatus();
  });
}

grpc::Status CatalogServiceImpl::GetProcedure(grpc::ServerContext* context, const v1::GetProcedureRequest* request,
                                              v1::Procedure* response) {
  return guard_.Run(context, "GetProcedure", *request, [&]() -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(Procedure p, catalog_.Get(request->code()));
    ProcedureToProto(p, response);
    return absl::OkStatus();
  });
}

grpc::Status CatalogServiceImpl::ListProcedures(grpc::ServerContext* context,
                                                const v1::ListProceduresRequest* request,
                                                v1::ListProceduresResponse* response) {
  return guard_.Run(context, "ListProcedures", *request, [&]() -> absl::Status {
    ProcedureListRequest r;
    r.field = request->field();
    r.online_mode = static_cast<OnlineMode>(request->online_mode());
    r.agency_code = request->agency_code();
    r.level = static_cast<AgencyLevel>(request->level());
    if (request->has_as_of()) {
      PSTRACK_ASSIGN_OR_RETURN(r.as_of, DateFromProto(request->as_of(), "as_of"));
    }
    r.query = request->query();
    PSTRACK_ASSIGN_OR_RETURN(r.full_online_eligible,
                             FromTristate(request->full_online_eligible(), "full_online_eligible"));
    PSTRACK_ASSIGN_OR_RETURN(r.fee_bearing, FromTristate(request->fee_bearing(), "fee_bearing"));
    r.page_size = request->page_size();
    r.page_token = request->page_token();
    PSTRACK_ASSIGN_OR_RETURN(ProcedureListPage page, catalog_.List(r));
    for (const Procedure& p : page.procedures) ProcedureToProto(p, response->add_procedures());
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::Status CatalogServiceImpl::ImportProcedures(grpc::ServerContext* context,
                                                  const v1::ImportProceduresRequest* request,
                                                  v1::ImportProceduresResponse* response) {
  return guard_.Run(context, "ImportProcedures", *request, [&](Call& call) -> absl::Status {
    PSTRACK_RETURN_IF_ERROR(CheckBatchSize("items", request->items_size(), "procedures"));
    std::vector<ItemOutcome> outcomes = ImportItems<ProcedureImportItem>(
        request->items_size(),
        [&](int i, ItemOutcome& o) -> absl::StatusOr<ProcedureImportItem> {
          const auto& item = request->items(i);
          o.key = item.procedure().code();
          o.source_line = item.source_line();
          PSTRACK_ASSIGN_OR_RETURN(Procedure procedure, ProcedureFromProto(item.procedure()));
          return ProcedureImportItem{std::move(procedure), item.source_line()};
        },
        [&](std::vector<ProcedureImportItem> items) { return catalog_.Import(items); });
    call.SetTarget(absl::StrCat(outcomes.size(), " procedures, first ", outcomes.front().key));
    call.SetCounts(CountOutcomes(outcomes));
    for (const auto& o : outcomes) ItemOutcomeToProto(o, response->add_results());
    BatchSummaryToProto(outcomes, response->mutable_summary());
    return absl::OkStatus();
  });
}

}  // namespace pstrack
