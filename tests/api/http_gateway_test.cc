// The HTTP/JSON gateway's parts (services/http/): routes read from the
// protos, request building from body, path and query, the error mapping,
// the OpenAPI document; and the gateway itself on a real server, checked
// against the gRPC API's answers (tests/e2e/http_test.py calls it from
// Python, curl and PHP).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "pstrack/v1/agency.pb.h"
#include "pstrack/v1/filing.pb.h"
#include "pstrack/v1/metrics.pb.h"
#include "services/common/spreadsheet.h"
#include "services/http/export.h"
#include "services/http/json_print.h"
#include "services/http/openapi.h"
#include "services/http/routes.h"
#include "services/http/transcode.h"
#include "tests/api/server_fixture.h"

namespace pstrack::testing {
namespace {

using http::RouteMatch;
using http::RouteTable;

const RouteTable& Routes() {
  static const RouteTable* table = [] {
    auto t = RouteTable::ForApi();
    EXPECT_TRUE(t.ok()) << t.status();
    return new RouteTable(*std::move(t));
  }();
  return *table;
}

RouteMatch MustMatch(absl::string_view method, absl::string_view path) {
  RouteMatch m;
  std::vector<std::string> allowed;
  EXPECT_EQ(Routes().Match(method, path, &m, &allowed), RouteTable::Outcome::kMatched) << method << " " << path;
  return m;
}

TEST(HttpRoutesTest, EveryRpcHasOneRouteAndPathsMatchTheirMethod) {
  int rpcs = 0;
  for (const auto* file : {v1::GetAgencyRequest::descriptor()->file(), v1::GetDossierRequest::descriptor()->file(),
                           v1::GetIndicatorsRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) rpcs += file->service(s)->method_count();
  }
  int routed = 0;
  for (const auto& r : Routes().routes()) {
    const std::string service = r.method->service()->name();
    routed += service == "AgencyService" || service == "FilingService" || service == "MetricsService";
  }
  EXPECT_EQ(routed, rpcs);

  RouteMatch m = MustMatch("GET", "/v1/agencies/P22");
  EXPECT_EQ(m.route->grpc_method, "/pstrack.v1.AgencyService/GetAgency");
  ASSERT_EQ(m.variables.size(), 1u);
  EXPECT_EQ(m.variables[0].first, "code");
  EXPECT_EQ(m.variables[0].second, "P22");
  // A custom verb is its own route, not a code ending in ":successor".
  EXPECT_EQ(MustMatch("GET", "/v1/agencies/P22:successor").route->grpc_method,
            "/pstrack.v1.AgencyService/ResolveSuccessor");
  EXPECT_EQ(MustMatch("POST", "/v1/events:batch").route->grpc_method, "/pstrack.v1.FilingService/RecordEvents");
  EXPECT_EQ(MustMatch("POST", "/v1/events").route->grpc_method, "/pstrack.v1.FilingService/RecordEvent");
  // A variable is decoded after the split: %2F is a '/' inside the code.
  m = MustMatch("GET", "/v1/dossiers/A%2FB-251001-0001");
  EXPECT_EQ(m.variables[0].second, "A/B-251001-0001");
  m = MustMatch("GET", "/v1/agencies/P22/indicators:watch");
  EXPECT_TRUE(m.route->server_streaming());
  EXPECT_EQ(m.variables[0].first, "scope.agency_code");
}

TEST(HttpRoutesTest, UnknownPathsAndWrongMethodsAreTold) {
  RouteMatch m;
  std::vector<std::string> allowed;
  EXPECT_EQ(Routes().Match("GET", "/v1/nothing", &m, &allowed), RouteTable::Outcome::kNoPath);
  EXPECT_EQ(Routes().Match("GET", "/v1/agencies/P22/extra/more", &m, &allowed), RouteTable::Outcome::kNoPath);
  EXPECT_EQ(Routes().Match("GET", "/v1/dossiers/%zz", &m, &allowed), RouteTable::Outcome::kNoPath);
  EXPECT_EQ(Routes().Match("DELETE", "/v1/agencies/P22", &m, &allowed), RouteTable::Outcome::kWrongMethod);
  std::sort(allowed.begin(), allowed.end());
  EXPECT_EQ(allowed, (std::vector<std::string>{"GET", "PATCH"}));
}

TEST(HttpTranscodeTest, QueryPathAndBodyFillTheRequest) {
  RouteMatch m = MustMatch("GET", "/v1/agencies/P22/indicators");
  v1::GetIndicatorsRequest req;
  ASSERT_TRUE(http::BuildRequest(m,
                                 "period.label=2025-Q3&indicatorIds=received&indicator_ids=on_time_rate"
                                 "&asOf=2025-10-01T08%3A00%3A00Z&scope.treeView=TREE_VIEW_UNSPECIFIED",
                                 "", &req)
                  .ok());
  v1::GetIndicatorsRequest want;
  want.mutable_scope()->set_agency_code("P22");
  want.mutable_period()->set_label("2025-Q3");
  want.add_indicator_ids("received");
  want.add_indicator_ids("on_time_rate");
  want.mutable_as_of()->set_seconds(1759305600);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(req, want)) << req.DebugString();

  // Enums by name or number; '+' is a space in the query.
  m = MustMatch("GET", "/v1/agencies");
  v1::ListAgenciesRequest list;
  ASSERT_TRUE(http::BuildRequest(m, "level=2&nameContains=H%E1%BA%A1+Long&maxDepth=3", "", &list).ok());
  EXPECT_EQ(list.level(), 2);
  EXPECT_EQ(list.name_contains(), "Hạ Long");
  EXPECT_EQ(list.max_depth(), 3);

  // body "event": the body is the event itself.
  m = MustMatch("POST", "/v1/events");
  v1::RecordEventRequest record;
  ASSERT_TRUE(http::BuildRequest(m, "", R"({"eventId":"e1","received":{"channel":"CHANNEL_ONLINE"}})", &record).ok());
  EXPECT_EQ(record.event().event_id(), "e1");
  EXPECT_EQ(record.event().received().channel(), v1::CHANNEL_ONLINE);
}

TEST(HttpTranscodeTest, BadInputIsNamedByPlaceAndField) {
  auto error = [](absl::string_view method, absl::string_view path, absl::string_view query, absl::string_view body,
                  google::protobuf::Message* req) {
    absl::Status s = http::BuildRequest(MustMatch(method, path), query, body, req);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    return std::string(s.message());
  };
  v1::ListAgenciesRequest list;
  EXPECT_TRUE(absl::StrContains(error("GET", "/v1/agencies", "maxDepth=deep", "", &list), "query parameter 'maxDepth'"));
  EXPECT_TRUE(absl::StrContains(error("GET", "/v1/agencies", "level=NOPE", "", &list), "AGENCY_LEVEL_PROVINCE"));
  EXPECT_TRUE(absl::StrContains(error("GET", "/v1/agencies", "colour=red", "", &list), "no field 'colour'"));
  EXPECT_TRUE(absl::StrContains(error("GET", "/v1/agencies", "a=%zz", "", &list), "bad %-escape"));
  EXPECT_TRUE(absl::StrContains(error("GET", "/v1/agencies", "", "{}", &list), "takes no body"));
  v1::GetIndicatorsRequest ind;
  EXPECT_TRUE(absl::StrContains(error("GET", "/v1/agencies/P22/indicators", "asOf=yesterday", "", &ind),
                                "RFC 3339"));
  EXPECT_TRUE(absl::StrContains(error("GET", "/v1/agencies/P22/indicators", "scope=x", "", &ind), "by its fields"));
  v1::RecordEventsRequest batch;
  EXPECT_TRUE(absl::StrContains(error("POST", "/v1/events:batch", "", R"({"events":[{"colour":1}]})", &batch),
                                "colour"));
  EXPECT_TRUE(absl::StrContains(error("POST", "/v1/events:batch", "events=x", "{}", &batch),
                                "the body carries 'events'"));
  // An echo of what was sent is cut.
  const std::string huge(5000, 'x');
  const std::string message = error("GET", "/v1/agencies", huge + "=1", "", &list);
  EXPECT_LT(message.size(), 300u) << message;
}

TEST(HttpTranscodeTest, StatusBodiesAreValidJsonWithTheStandardMapping) {
  EXPECT_EQ(http::HttpStatusOf(0), 200);
  EXPECT_EQ(http::HttpStatusOf(3), 400);
  EXPECT_EQ(http::HttpStatusOf(4), 504);
  EXPECT_EQ(http::HttpStatusOf(5), 404);
  EXPECT_EQ(http::HttpStatusOf(6), 409);
  EXPECT_EQ(http::HttpStatusOf(7), 403);
  EXPECT_EQ(http::HttpStatusOf(8), 429);
  EXPECT_EQ(http::HttpStatusOf(9), 412);
  EXPECT_EQ(http::HttpStatusOf(14), 503);
  EXPECT_EQ(http::HttpStatusOf(16), 401);
  // Quotes, control characters and a UTF-8 character cut in half (a
  // message cut at its byte limit) still make valid JSON.
  const std::string message = std::string("tên \"Hạ\"\n\t\x01 cut ") + std::string("\xe1\xba", 2);
  const std::string json = http::StatusJson(3, message);
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok()) << json;
  EXPECT_EQ(parsed.fields().at("code").number_value(), 3);
  EXPECT_EQ(parsed.fields().at("message").string_value(), "tên \"Hạ\"\n\t\x01 cut \xef\xbf\xbd");
  EXPECT_EQ(parsed.fields().at("details").list_value().values_size(), 0);
}

TEST(HttpOpenApiTest, TheDocumentIsStableAndNamesEveryRoute) {
  auto a = http::OpenApiJson(Routes(), "1.2.3");
  auto b = http::OpenApiJson(Routes(), "1.2.3");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, *b);
  google::protobuf::Struct doc;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*a, &doc).ok());
  EXPECT_EQ(doc.fields().at("openapi").string_value(), "3.0.3");
  const auto& paths = doc.fields().at("paths").struct_value().fields();
  int operations = 0;
  for (const auto& [path, item] : paths) operations += item.struct_value().fields_size();
  EXPECT_EQ(operations, static_cast<int>(Routes().routes().size()));
  // Comments of the protos become descriptions.
  const auto& get = paths.at("/v1/dossiers/{code}").struct_value().fields().at("get").struct_value().fields();
  EXPECT_TRUE(absl::StrContains(get.at("description").string_value(), "NOT_FOUND")) << get.at("description").string_value();
  const auto& schemas = doc.fields().at("components").struct_value().fields().at("schemas").struct_value().fields();
  EXPECT_TRUE(schemas.count("pstrack.v1.FilingEvent"));
  EXPECT_TRUE(schemas.count("google.rpc.Status"));
}

// A raw HTTP/1.1 exchange on loopback: the request as written, the whole
// response (the server closes: "Connection: close").
std::string Exchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval limit{.tv_sec = 30, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  EXPECT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  return response;
}

class HttpGatewayTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o = Options();
    o.http_listen_address = "127.0.0.1:0";
    StartServer(o);
    BasicTree();
    MustUpsert(SampleProcedure("1.001193"));
    ASSERT_GT(server_->http_port(), 0);
  }
  std::string Get(const std::string& target) {
    return Exchange(server_->http_port(),
                    absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  }
  static std::string Body(const std::string& response) { return response.substr(response.find("\r\n\r\n") + 4); }
};

TEST_F(HttpGatewayTest, AnAgencyOverHttpIsTheGrpcAnswer) {
  const std::string response = Get("/v1/agencies/P22");
  ASSERT_TRUE(absl::StartsWith(response, "HTTP/1.1 200")) << response;
  v1::Agency over_http;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Body(response), &over_http).ok()) << response;
  grpc::ClientContext ctx;
  v1::GetAgencyRequest req;
  req.set_code("P22");
  v1::Agency over_grpc;
  ASSERT_TRUE(agencies_->GetAgency(&ctx, req, &over_grpc).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(over_http, over_grpc))
      << over_http.DebugString() << over_grpc.DebugString();
}

TEST_F(HttpGatewayTest, MalformedAndOversizedRequestsAreRefusedCleanly) {
  EXPECT_TRUE(absl::StartsWith(Exchange(server_->http_port(), "NONSENSE\r\n\r\n"), "HTTP/1.1 400")) ;
  const std::string long_header = absl::StrCat("GET /healthz HTTP/1.1\r\nX-Big: ", std::string(20000, 'a'),
                                               "\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(Exchange(server_->http_port(), long_header), "HTTP/1.1 431"));
  // A declared body over the limit is refused before it is read.
  const std::string huge = absl::StrCat("POST /v1/events:batch HTTP/1.1\r\nHost: x\r\nContent-Length: ",
                                        int64_t{1} << 40, "\r\nConnection: close\r\n\r\n{");
  const std::string response = Exchange(server_->http_port(), huge);
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 413")) << response;
  EXPECT_TRUE(absl::StrContains(response, "\"code\":8")) << response;
  // The server still serves.
  EXPECT_TRUE(absl::StartsWith(Get("/healthz"), "HTTP/1.1 200"));
}

TEST_F(HttpGatewayTest, AnNdjsonUploadIsRecordedAsAStream) {
  std::string body;
  for (int i = 1; i <= 50; ++i) {
    absl::StrAppend(&body, R"({"eventId":"nd-)", i, R"(","dossierCode":"P22.X1-251006-)", 1000 + i,
                    R"(","agencyCode":"P22.X1","procedureCode":"1.001193","occurredAt":"2025-10-06T02:00:00Z",)",
                    R"("received":{"channel":"CHANNEL_ONLINE"}})", "\n");
  }
  // Chunked, in pieces that cut lines and characters anywhere.
  std::string chunked;
  for (size_t at = 0; at < body.size(); at += 777) {
    const std::string piece = body.substr(at, 777);
    absl::StrAppend(&chunked, absl::Hex(piece.size()), "\r\n", piece, "\r\n");
  }
  absl::StrAppend(&chunked, "0\r\n\r\n");
  const std::string response =
      Exchange(server_->http_port(), absl::StrCat("POST /v1/events:stream HTTP/1.1\r\nHost: x\r\n"
                                                  "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                                                  chunked));
  ASSERT_TRUE(absl::StartsWith(response, "HTTP/1.1 200")) << response;
  v1::StreamEventsResponse summary;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Body(response), &summary).ok()) << response;
  EXPECT_EQ(summary.summary().applied(), 50);
  EXPECT_EQ(summary.summary().rejected(), 0);
  grpc::ClientContext ctx;
  v1::GetDossierRequest req;
  req.set_code("P22.X1-251006-1050");
  v1::Dossier dossier;
  EXPECT_TRUE(filings_->GetDossier(&ctx, req, &dossier).ok());
}

}  // namespace
}  // namespace pstrack::testing

namespace pstrack::testing {
namespace {

TEST(DashboardExport, ParsesATableWithItsTypes) {
  auto sheet = http::ParseExportRequest(R"({"sheet":"xếp hạng","columns":[{"title":"Tỉnh"},
      {"title":"Đúng hạn","type":"percent"},{"title":"Hồ sơ","type":"integer"}],
      "rows":[["Tỉnh Quảng Ninh",0.973,1520],["Thành phố Hà Nội",null],[]]})");
  ASSERT_TRUE(sheet.ok()) << sheet.status();
  EXPECT_EQ(sheet->name, "xếp hạng");
  ASSERT_EQ(sheet->columns.size(), 3u);
  EXPECT_EQ(sheet->columns[0].type, SheetColumn::Type::kText);
  EXPECT_EQ(sheet->columns[1].type, SheetColumn::Type::kPercent);
  ASSERT_EQ(sheet->rows.size(), 3u);
  EXPECT_EQ(std::get<std::string>(sheet->rows[0][0]), "Tỉnh Quảng Ninh");
  EXPECT_DOUBLE_EQ(std::get<double>(sheet->rows[0][1]), 0.973);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(sheet->rows[1][1]));
  auto book = XlsxWorkbook(*sheet);
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->substr(0, 4), std::string("PK\x03\x04", 4));  // a zip file, as .xlsx is
}

TEST(DashboardExport, BadInputNamesTheField) {
  struct Case {
    const char* json;
    const char* field;
  };
  for (const Case& c : std::vector<Case>{
           {"[1]", "JSON object"},
           {R"({"columns":[]})", "columns"},
           {R"({"columns":[{"type":"text"}]})", "columns[0].title"},
           {R"({"columns":[{"title":"a","type":"money"}]})", "columns[0].type"},
           {R"({"columns":[{"title":"a"}],"rows":[[1,2]]})", "rows[0]"},
           {R"({"columns":[{"title":"a"}],"rows":[[{"x":1}]]})", "rows[0][0]"},
           {R"({"columns":[{"title":"a"}],"rows":{"a":1}})", "rows"},
           {R"({"columns":[{"title":"a"}],"extra":1})", "extra"},
       }) {
    auto sheet = http::ParseExportRequest(c.json);
    ASSERT_FALSE(sheet.ok()) << c.json;
    EXPECT_EQ(sheet.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_TRUE(absl::StrContains(sheet.status().message(), c.field)) << c.json << ": " << sheet.status();
  }
  Sheet broken{"s", {{"a", SheetColumn::Type::kText}}, {{std::string("\xC3")}}};
  auto book = XlsxWorkbook(broken);
  EXPECT_EQ(book.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(book.status().message(), "rows[0][0]")) << book.status();
}

}  // namespace
}  // namespace pstrack::testing

namespace pstrack::testing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Random content for every field kind, nested messages to depth 3.
class MessageFiller {
 public:
  explicit MessageFiller(uint32_t seed) : rng_(seed) {}

  void Fill(Message* m, int depth) {
    const Descriptor* d = m->GetDescriptor();
    const Reflection* r = m->GetReflection();
    if (d->full_name() == "google.protobuf.Timestamp" || d->full_name() == "google.protobuf.Duration") {
      const bool duration = d->full_name() == "google.protobuf.Duration";
      const int64_t seconds = duration ? Between(-100000, 100000) : Between(0, 4000000000LL);
      int32_t nanos = static_cast<int32_t>(std::vector<int64_t>{0, 250000000, 123456000, 987654321}[Between(0, 3)]);
      if (duration && seconds < 0) nanos = -nanos;
      if (duration && seconds == 0) nanos = std::abs(nanos);
      r->SetInt64(m, d->FindFieldByNumber(1), seconds);
      r->SetInt32(m, d->FindFieldByNumber(2), nanos);
      return;
    }
    if (absl::StartsWith(d->full_name(), "google.protobuf.") && d->file()->name() != "google/protobuf/wrappers.proto") {
      return;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (Between(0, 9) < 3) continue;  // left unset
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && depth >= 3) continue;
      const int n = f->is_repeated() ? static_cast<int>(Between(0, 3)) : 1;
      for (int k = 0; k < n; ++k) Set(m, f, depth);
    }
  }

 private:
  int64_t Between(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  std::string Text() {
    static const std::vector<std::string> parts = {"a", "Quảng Ninh", "\"", "\\", "\n", "\t", "\x01", "/", "<>&",
                                                   "Đắk Lắk", "😀", " ", "0", "é"};
    std::string s;
    for (int64_t n = Between(0, 5); n > 0; --n) s += parts[Between(0, parts.size() - 1)];
    return s;
  }
  double Real() {
    static const std::vector<double> values = {0, 0.1, 1.0 / 3, 1e-7, 123.456, 1e21, -2.5, 0.875, 2e-300, 1234567};
    return values[Between(0, values.size() - 1)];
  }
  void Set(Message* m, const FieldDescriptor* f, int depth) {
    const Reflection* r = m->GetReflection();
    const bool rep = f->is_repeated();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        const auto v = static_cast<int32_t>(Between(INT32_MIN, INT32_MAX));
        rep ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        const auto v = static_cast<uint32_t>(Between(0, UINT32_MAX));
        rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        const int64_t v = Between(INT64_MIN / 2, INT64_MAX / 2);
        rep ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        const auto v = static_cast<uint64_t>(Between(0, INT64_MAX));
        rep ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
        rep ? r->AddDouble(m, f, Real()) : r->SetDouble(m, f, Real());
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        rep ? r->AddFloat(m, f, static_cast<float>(Real())) : r->SetFloat(m, f, static_cast<float>(Real()));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        rep ? r->AddBool(m, f, Between(0, 1)) : r->SetBool(m, f, Between(0, 1));
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* e = f->enum_type()->value(static_cast<int>(Between(0, f->enum_type()->value_count() - 1)));
        rep ? r->AddEnum(m, f, e) : r->SetEnum(m, f, e);
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string v = Text();
        if (f->type() == FieldDescriptor::TYPE_BYTES) v += std::string("\0\xff", 2);
        rep ? r->AddString(m, f, v) : r->SetString(m, f, v);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Fill(rep ? r->AddMessage(m, f) : r->MutableMessage(m, f), depth + 1);
        break;
    }
  }
  std::mt19937_64 rng_;
};

// Every response type of the API, filled at random 40 times each: the
// gateway's printer and protobuf's (with always_print_primitive_fields)
// give the same JSON value, and it reads back as the same message.
TEST(JsonPrint, SameJsonAsProtobufForEveryResponseType) {
  google::protobuf::DynamicMessageFactory factory;
  std::set<std::string> types;
  for (const auto& route : Routes().routes()) types.insert(route.method->output_type()->full_name());
  ASSERT_GT(types.size(), 20u);
  uint32_t seed = 1;
  int compared = 0;
  for (const auto& route : Routes().routes()) {
    const Descriptor* type = route.method->output_type();
    if (!types.erase(type->full_name())) continue;
    for (int i = 0; i < 40; ++i) {
      std::unique_ptr<Message> m(factory.GetPrototype(type)->New());
      MessageFiller(seed++).Fill(m.get(), 0);
      std::string ours;
      http::AppendMessageJson(*m, &ours);
      std::string theirs;
      google::protobuf::util::JsonPrintOptions options;
      options.always_print_primitive_fields = true;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*m, &theirs, options).ok());
      google::protobuf::Value a, b;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ours, &a).ok()) << ours;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(theirs, &b).ok()) << theirs;
      ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, b))
          << type->full_name() << "\nours:   " << ours << "\ntheirs: " << theirs;
      std::unique_ptr<Message> back(factory.GetPrototype(type)->New());
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ours, back.get()).ok()) << ours;
      ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*m, *back)) << ours;
      ++compared;
    }
  }
  EXPECT_GT(compared, 800);
}

}  // namespace
}  // namespace pstrack::testing
