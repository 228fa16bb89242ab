#include "services/security/policy.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"

namespace pstrack {
namespace {

constexpr uint32_t Bit(Role r) { return 1u << static_cast<int>(r); }
constexpr uint32_t kAdmin = Bit(Role::kAdmin);
constexpr uint32_t kAnyRole = Bit(Role::kCentre) | Bit(Role::kAnalyst) | Bit(Role::kAdmin);
// Event writers: the centres (within their scope) and admins.
constexpr uint32_t kWriters = Bit(Role::kCentre) | Bit(Role::kAdmin);
// Dossier readers (within their scope).
constexpr uint32_t kDossierReaders = kAnyRole;
// Metric readers (within their scope).
constexpr uint32_t kAnalysts = Bit(Role::kAnalyst) | Bit(Role::kAdmin);

constexpr absl::string_view kAgency = "pstrack.v1.AgencyService";
constexpr absl::string_view kCatalog = "pstrack.v1.CatalogService";
constexpr absl::string_view kFiling = "pstrack.v1.FilingService";
constexpr absl::string_view kMetrics = "pstrack.v1.MetricsService";
constexpr absl::string_view kAdminService = "pstrack.v1.AdminService";
constexpr absl::string_view kReporting = "pstrack.v1.ReportingService";

}  // namespace

std::string MethodPolicy::full_name() const { return absl::StrCat(service, "/", method); }

std::string MethodPolicy::allowed_roles() const {
  std::string out;
  for (Role r : {Role::kCentre, Role::kAnalyst, Role::kAdmin}) {
    if (allows(r)) absl::StrAppend(&out, out.empty() ? "" : ", ", RoleName(r));
  }
  return out;
}

const std::vector<MethodPolicy>& AllMethodPolicies() {
  static auto* const kPolicies = new std::vector<MethodPolicy>{
      // Reference data: readable by every identity, written by admins.
      {kAgency, "CreateAgency", kAdmin, true},
      {kAgency, "UpdateAgency", kAdmin, true},
      {kAgency, "ImportAgencies", kAdmin, true, false, /*batch=*/true},
      {kAgency, "GetAgency", kAnyRole, false},
      {kAgency, "ListAgencies", kAnyRole, false},
      {kAgency, "ResolveSuccessor", kAnyRole, false},
      {kCatalog, "UpsertProcedure", kAdmin, true},
      {kCatalog, "ImportProcedures", kAdmin, true, false, /*batch=*/true},
      {kCatalog, "GetProcedure", kAnyRole, false},
      {kCatalog, "ListProcedures", kAnyRole, false},
      // Dossiers: written by centres, read within the caller's scope.
      {kFiling, "RecordEvent", kWriters, true},
      {kFiling, "RecordEvents", kWriters, true, false, /*batch=*/true},
      {kFiling, "StreamEvents", kWriters, true, /*stream=*/true, /*batch=*/true},
      {kFiling, "GetDossier", kDossierReaders, false},
      {kFiling, "ListDossiers", kDossierReaders, false},
      // Metrics: analysts within their scope.
      {kMetrics, "ListIndicators", kAnyRole, false},
      {kMetrics, "ListMethodologies", kAnyRole, false},
      {kMetrics, "GetIndicators", kAnalysts, false},
      {kMetrics, "GetBreakdown", kAnalysts, false},
      {kMetrics, "GetTimeSeries", kAnalysts, false},
      {kMetrics, "RankAgencies", kAnalysts, false},
      {kMetrics, "ScoreIndex", kAnalysts, false},
      {kMetrics, "WatchIndicators", kAnalysts, false, /*stream=*/true},
      {kMetrics, "ListExternalInputs", kAnalysts, false},
      {kMetrics, "SubmitExternalInputs", kAdmin, true, false, /*batch=*/true},
      {kMetrics, "RebuildAggregates", kAdmin, true, false, false, /*long_running=*/true},
      // Periodic reports: written by centres (within their scope); checks
      // for analysts; each agency's data quality also for its centre.
      {kReporting, "SubmitReports", kWriters, true, false, /*batch=*/true},
      {kReporting, "GetReport", kAnyRole, false},
      {kReporting, "ListReports", kAnyRole, false},
      {kReporting, "Reconcile", kAnalysts, false},
      {kReporting, "ListSilentAgencies", kAnalysts, false},
      {kReporting, "GetDataQuality", kAnyRole, false},
      // Administration.
      {kAdminService, "CreateApiKey", kAdmin, true},
      {kAdminService, "ListApiKeys", kAdmin, true},
      {kAdminService, "RevokeApiKey", kAdmin, true},
      {kAdminService, "ListAuditRecords", kAdmin, true},
      {kAdminService, "ReloadMethodologies", kAdmin, true},
      {kAdminService, "WhoAmI", kAnyRole, false},
  };
  static const bool kMarked = [] {
    for (MethodPolicy& p : *kPolicies) {
      static constexpr absl::string_view kReads[] = {
          "GetDossier", "ListDossiers", "GetIndicators", "GetBreakdown", "GetTimeSeries",    "RankAgencies",
          "ScoreIndex", "Reconcile",    "ListSilentAgencies", "GetDataQuality", "RebuildAggregates"};
      p.reads_projection = std::find(std::begin(kReads), std::end(kReads), p.method) != std::end(kReads);
    }
    return true;
  }();
  (void)kMarked;
  return *kPolicies;
}

const MethodPolicy* FindMethodPolicy(absl::string_view method) {
  size_t slash = method.rfind('/');
  absl::string_view service = slash == absl::string_view::npos ? "" : method.substr(0, slash);
  absl::string_view name = slash == absl::string_view::npos ? method : method.substr(slash + 1);
  if (absl::ConsumePrefix(&service, "/")) {
  }
  for (const MethodPolicy& p : AllMethodPolicies()) {
    if (p.method == name && (service.empty() || p.service == service)) return &p;
  }
  return nullptr;
}

}  // namespace pstrack
