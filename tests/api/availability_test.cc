// The server seen from outside gRPC (services/server/listener_watch.h): a
// listener whose queue fills while nothing is accepted is found stalled;
// the accept queue is read from the kernel as it is; a server whose RPC
// threads are all busy says NOT_SERVING and SERVING again once they are
// free.
#include "services/server/listener_watch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/api/server_fixture.h"

namespace pstrack::testing {
namespace {

TEST(StallDetectorTest, OnlyAQueueThatWaitsWithNothingAcceptedForTheLimitIsAStall) {
  StallDetector d(absl::Seconds(3));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(d.Observe(t0, 5, false));
  EXPECT_FALSE(d.Observe(t0 + absl::Seconds(2), 5, false));
  // Something accepted: the count starts again.
  EXPECT_FALSE(d.Observe(t0 + absl::Seconds(2.5), 5, true));
  EXPECT_FALSE(d.Observe(t0 + absl::Seconds(5), 5, false));
  // An unreadable sample (no descriptor) says nothing either way.
  EXPECT_FALSE(d.Observe(t0 + absl::Seconds(6), std::nullopt, false));
  EXPECT_FALSE(d.Observe(t0 + absl::Seconds(7.9), 5, false));
  EXPECT_TRUE(d.Observe(t0 + absl::Seconds(8), 5, false));
  // An empty queue is never a stall, however long.
  StallDetector idle(absl::Seconds(3));
  EXPECT_FALSE(idle.Observe(t0, 0, false));
  EXPECT_FALSE(idle.Observe(t0 + absl::Hours(1), 0, false));
}

TEST(AcceptQueueTest, CountsTheConnectionsALoopbackListenerHasNotAccepted) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  EXPECT_EQ(AcceptQueueLength(port), 0);
  std::vector<int> clients;
  for (int i = 0; i < 5; ++i) {
    const int c = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    clients.push_back(c);
  }
  EXPECT_EQ(AcceptQueueLength(port), 5);
  auto before = OwnSockets();
  ASSERT_TRUE(before.has_value());
  const int accepted = accept(listener, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  EXPECT_EQ(AcceptQueueLength(port), 4);
  auto after = OwnSockets();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->size(), before->size() + 1);  // the accepted one is new
  for (int c : clients) close(c);
  close(accepted);
  close(listener);
  EXPECT_EQ(AcceptQueueLength(port), std::nullopt);  // no listener on the port any more
}

class SaturationTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o = Options();
    o.max_threads = 8;
    StartServer(o);
  }
  // grpc.health.v1.Health/Check for the whole server: true SERVING, false
  // NOT_SERVING.
  bool Serving() {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice empty("");  // an empty HealthCheckRequest
    grpc::ByteBuffer request(&empty, 1), reply;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &reply,
                   [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<grpc::Slice> slices;
    (void)reply.Dump(&slices);
    std::string bytes;
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    return bytes == std::string("\x08\x01", 2);
  }
  bool ServingWithin(bool want, absl::Duration limit) {
    const absl::Time end = absl::Now() + limit;
    while (absl::Now() < end) {
      if (Serving() == want) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return false;
  }
};

// Every RPC thread but one busy: seven RecordEvent calls wait for the
// SQLite write lock, which the test holds from a connection of its own.
TEST_F(SaturationTest, HealthSaysNotServingWhileEveryThreadIsBusyAndServingAfterSqlite) {
  BasicTree();
  MustUpsert(SampleProcedure("1.001193"));
  ASSERT_TRUE(ServingWithin(true, absl::Seconds(5)));
  sqlite3* db = nullptr;
  const std::string url = TestDatabaseUrl(dir_, "pstrack.db");
  ASSERT_EQ(sqlite3_open(url.substr(url.find(':') + 1).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::vector<std::thread> writers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 7; ++i) {
    writers.emplace_back([&, i] {
      v1::RecordEventRequest req;
      *req.mutable_event() = Receipt(absl::StrCat("sat-", i), absl::StrCat("P22.X1-250602-0", 100 + i), "P22.X1");
      v1::RecordEventResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      grpc::Status recorded = filings_->RecordEvent(&ctx, req, &resp);
      if (recorded.ok()) ++ok;
      EXPECT_TRUE(recorded.ok()) << recorded.error_message();
    });
  }
  EXPECT_TRUE(ServingWithin(false, absl::Seconds(10))) << "health still SERVING with every RPC thread busy";
  ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  for (auto& t : writers) t.join();
  EXPECT_EQ(ok.load(), 7) << "the waiting writes complete once the lock is free";
  EXPECT_TRUE(ServingWithin(true, absl::Seconds(5))) << "health not SERVING again once the threads are free";
}

// Streams run on gRPC's callback API: with 8 RPC threads, 40 watches and
// 20 event streams open at once (each stream has sent an event and waits)
// hold none of them, so health stays SERVING and ordinary calls are
// answered; the streams still end properly afterwards.
TEST_F(SaturationTest, OpenStreamsHoldNoRpcThread) {
  server_->Shutdown(absl::Seconds(5));
  server_.reset();
  ServerOptions o = Options();
  o.max_threads = 8;
  o.guard.max_streams_per_caller = 100;
  StartServer(o);
  BasicTree();
  MustUpsert(SampleProcedure("1.001193"));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::IndicatorSet>>> watches;
  for (int i = 0; i < 40; ++i) {
    v1::WatchIndicatorsRequest req;
    req.mutable_scope()->set_agency_code(i % 2 ? "P22" : "P22.X1");
    req.mutable_period()->set_label("2025");
    req.add_indicator_ids("received");
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    watches.push_back(metrics_->WatchIndicators(contexts.back().get(), req));
    v1::IndicatorSet first;
    ASSERT_TRUE(watches.back()->Read(&first)) << "watch " << i;
    EXPECT_EQ(first.values_size(), 1);
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> stream_contexts;
  std::vector<v1::StreamEventsResponse> responses(20);
  std::vector<std::unique_ptr<grpc::ClientWriter<v1::FilingEvent>>> streams;
  for (int i = 0; i < 20; ++i) {
    stream_contexts.push_back(std::make_unique<grpc::ClientContext>());
    stream_contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    streams.push_back(filings_->StreamEvents(stream_contexts.back().get(), &responses[i]));
    ASSERT_TRUE(streams.back()->Write(
        Receipt(absl::StrCat("open-", i), absl::StrCat("P22.X1-250602-0", 200 + i), "P22.X1")));
  }
  EXPECT_TRUE(ServingWithin(true, absl::Seconds(5))) << "60 open streams took the server's 8 threads";
  for (int i = 0; i < 20; ++i) {  // ordinary calls go on
    v1::GetIndicatorsRequest req;
    req.mutable_scope()->set_agency_code("P22");
    req.mutable_period()->set_label("2025");
    req.add_indicator_ids("received");
    v1::IndicatorSet set;
    auto ctx = Ctx();
    ASSERT_TRUE(metrics_->GetIndicators(ctx.get(), req, &set).ok());
  }
  // The streams' events land when they finish; a watch sees them.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(streams[i]->WritesDone());
    grpc::Status finished = streams[i]->Finish();
    ASSERT_TRUE(finished.ok()) << finished.error_message();
    EXPECT_EQ(responses[i].summary().applied(), 1) << "stream " << i << ": " << responses[i].DebugString();
  }
  bool saw_twenty = false;
  for (int n = 0; n < 20 && !saw_twenty; ++n) {
    v1::IndicatorSet next;
    if (!watches[0]->Read(&next)) break;
    saw_twenty = next.values(0).numerator() == 20;
  }
  EXPECT_TRUE(saw_twenty) << "the watch did not see the 20 streamed receipts";
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& w : watches) EXPECT_EQ(w->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(ServingWithin(true, absl::Seconds(5)));
}

}  // namespace
}  // namespace pstrack::testing

namespace pstrack::testing {
namespace {

class StreamLimitsTest : public ServerTest {
 protected:
  void StartWith(int per_caller, absl::Duration age, absl::Duration idle) {
    server_->Shutdown(absl::Seconds(5));
    server_.reset();
    ServerOptions o = Options();
    o.guard.max_streams_per_caller = per_caller;
    o.guard.max_stream_age = age;
    o.guard.stream_idle_timeout = idle;
    StartServer(o);
    BasicTree();
  }
  struct Watch {
    std::unique_ptr<grpc::ClientContext> ctx = std::make_unique<grpc::ClientContext>();
    std::unique_ptr<grpc::ClientReader<v1::IndicatorSet>> reader;
  };
  Watch OpenWatch() {
    Watch w;
    v1::WatchIndicatorsRequest req;
    req.mutable_scope()->set_agency_code("P22");
    req.mutable_period()->set_label("2025");
    req.add_indicator_ids("received");
    w.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    w.reader = metrics_->WatchIndicators(w.ctx.get(), req);
    return w;
  }
};

TEST_F(StreamLimitsTest, ACallerHasAtMostItsStreamsAndTheNextIsRefusedNamingTheCap) {
  StartWith(2, absl::Hours(1), absl::Minutes(5));
  Watch a = OpenWatch(), b = OpenWatch();
  v1::IndicatorSet set;
  ASSERT_TRUE(a.reader->Read(&set));
  ASSERT_TRUE(b.reader->Read(&set));
  Watch c = OpenWatch();
  EXPECT_FALSE(c.reader->Read(&set));
  grpc::Status refused = c.reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused.error_message().find("at most 2 streams"), std::string::npos) << refused.error_message();
  EXPECT_NE(refused.error_message().find("--max_streams_per_key"), std::string::npos) << refused.error_message();
  // Unary calls of the same caller go on meanwhile.
  v1::GetIndicatorsRequest get;
  get.mutable_scope()->set_agency_code("P22");
  get.mutable_period()->set_label("2025");
  v1::IndicatorSet out;
  EXPECT_TRUE(metrics_->GetIndicators(Ctx().get(), get, &out).ok());
  // A slot freed is a slot again.
  a.ctx->TryCancel();
  (void)a.reader->Finish();
  absl::SleepFor(absl::Milliseconds(200));
  Watch d = OpenWatch();
  EXPECT_TRUE(d.reader->Read(&set));
  b.ctx->TryCancel();
  d.ctx->TryCancel();
  (void)b.reader->Finish();
  (void)d.reader->Finish();
}

TEST_F(StreamLimitsTest, AWatchPastItsMaximumAgeIsEnded) {
  StartWith(16, absl::Seconds(2), absl::Hours(1));
  Watch w = OpenWatch();
  v1::IndicatorSet set;
  ASSERT_TRUE(w.reader->Read(&set));
  const absl::Time opened = absl::Now();
  while (w.reader->Read(&set)) {
  }
  EXPECT_FALSE(w.reader->Finish().ok());
  EXPECT_GE(absl::Now() - opened, absl::Seconds(1));
  EXPECT_LE(absl::Now() - opened, absl::Seconds(10)) << "a watch outlived its maximum age";
}

TEST_F(StreamLimitsTest, AnEventStreamThatSendsNothingIsEndedAndOneThatSendsIsNot) {
  StartWith(16, absl::Hours(1), absl::Seconds(1));
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::StreamEventsResponse resp;
    auto writer = filings_->StreamEvents(&ctx, &resp);
    const absl::Time began = absl::Now();
    EXPECT_FALSE(writer->Finish().ok());  // returns once the server ends the call
    EXPECT_LE(absl::Now() - began, absl::Seconds(10)) << "an idle stream was not ended";
  }
  // One that sends a (refused, unknown agency) event every half second
  // for three seconds is not idle.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::StreamEventsResponse resp;
  auto writer = filings_->StreamEvents(&ctx, &resp);
  for (int i = 0; i < 6; ++i) {
    v1::FilingEvent e;
    e.set_event_id("idle-" + std::to_string(i));
    e.set_agency_code("NOWHERE");
    ASSERT_TRUE(writer->Write(e)) << "the stream was ended while it was sending, at message " << i;
    absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_TRUE(writer->WritesDone());
  const grpc::Status done = writer->Finish();
  EXPECT_TRUE(done.ok()) << done.error_message();
  EXPECT_EQ(resp.summary().rejected(), 6);
}

// Connections that hold a descriptor without using it: one that never sends
// HTTP/2's preface is closed at the handshake timeout; one with no call open
// past the idle timeout is closed by the server (GOAWAY), and its client
// reconnects on its next call.
class ConnectionLimitsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions o = Options();
    o.handshake_timeout = absl::Seconds(1);
    o.connection_idle_timeout = absl::Seconds(2);
    StartServer(o);
  }
};

TEST_F(ConnectionLimitsTest, ASocketThatSendsNothingIsClosedAtTheHandshakeTimeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int c = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(c, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval limit{.tv_sec = 20, .tv_usec = 0};
  ASSERT_EQ(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
  const absl::Time start = absl::Now();
  char buf[256];
  ssize_t n;
  // The server may send its own settings first; then the connection ends.
  while ((n = recv(c, buf, sizeof(buf), 0)) > 0) {
  }
  const absl::Duration waited = absl::Now() - start;
  const int err = errno;
  close(c);
  EXPECT_TRUE(n == 0 || err == ECONNRESET) << "recv " << n << " errno " << err << " (EAGAIN: still open at 20 s)";
  EXPECT_GE(waited, absl::Milliseconds(900));
  EXPECT_LT(waited, absl::Seconds(10));
}

TEST_F(ConnectionLimitsTest, AnIdleConnectionIsClosedAndTheClientReconnects) {
  v1::ListAgenciesRequest req;
  v1::ListAgenciesResponse resp;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(agencies_->ListAgencies(&ctx, req, &resp).ok());
  }
  ASSERT_EQ(channel_->GetState(false), GRPC_CHANNEL_READY);
  // The server closes the connection after 2 s with no call; the channel
  // leaves READY without any call of its own.
  const absl::Time end = absl::Now() + absl::Seconds(15);
  while (channel_->GetState(false) == GRPC_CHANNEL_READY && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_NE(channel_->GetState(false), GRPC_CHANNEL_READY);
  grpc::ClientContext again;
  EXPECT_TRUE(agencies_->ListAgencies(&again, req, &resp).ok());
}

}  // namespace
}  // namespace pstrack::testing
