// The request messages of the write RPCs, as bytes off the wire: parsed,
// bounded (CheckRequestLimits, as RpcGuard does) and translated as the
// handlers do. No crash; what translates survives the storage encoding.
#include "google/protobuf/stubs/logging.h"
#include "pstrack/v1/agency.pb.h"
#include "pstrack/v1/catalog.pb.h"
#include "pstrack/v1/filing.pb.h"
#include "pstrack/v1/reporting.pb.h"
#include "services/api/convert.h"
#include "services/api/filing_convert.h"
#include "services/api/reporting_service.h"
#include "services/api/request_limits.h"
#include "services/lifecycle/event.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

template <typename Message>
bool Parse(const uint8_t* data, size_t size, Message* m, const char* method) {
  if (!m->ParseFromArray(data, static_cast<int>(size))) return false;
  return pstrack::CheckRequestLimits(*m, method, 64 << 20).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pstrack;
  // Invalid UTF-8 in a string field is a parse failure; protobuf's log line
  // about each one is noise here.
  static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  (void)quiet;
  if (size == 0) return 0;
  // The first byte picks the message; the rest is its encoding.
  const uint8_t which = data[0] % 5;
  ++data;
  --size;
  if (which == 0) {
    v1::RecordEventsRequest r;
    if (!Parse(data, size, &r, "RecordEvents")) return 0;
    for (const v1::FilingEvent& e : r.events()) {
      auto event = FilingEventFromProto(e);
      if (!event.ok()) continue;
      auto decoded = DecodeEvent(EncodeEvent(*event));
      PSTRACK_FUZZ_CHECK(decoded.ok());
    }
  } else if (which == 1) {
    v1::RecordEventRequest r;
    if (Parse(data, size, &r, "RecordEvent")) (void)FilingEventFromProto(r.event());
  } else if (which == 2) {
    v1::ImportAgenciesRequest r;
    if (!Parse(data, size, &r, "ImportAgencies")) return 0;
    for (const auto& item : r.items()) (void)AgencyFromProto(item.agency());
  } else if (which == 3) {
    v1::ImportProceduresRequest r;
    if (!Parse(data, size, &r, "ImportProcedures")) return 0;
    for (const auto& item : r.items()) (void)ProcedureFromProto(item.procedure());
  } else {
    v1::SubmitReportsRequest r;
    if (!Parse(data, size, &r, "SubmitReports")) return 0;
    for (const v1::PeriodicReport& p : r.reports()) (void)ReportFromProto(p);
  }
  return 0;
}
