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

#include <vector>

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

TEST_F(SaturationTest, HealthSaysNotServingWhileEveryThreadIsBusyAndServingAfter) {
  BasicTree();
  ASSERT_TRUE(ServingWithin(true, absl::Seconds(5)));
  // Watches hold a thread each (the synchronous server): 7 of 8 busy.
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::IndicatorSet>>> watches;
  for (int i = 0; i < 7; ++i) {
    v1::WatchIndicatorsRequest req;
    req.mutable_scope()->set_agency_code("P22");
    req.mutable_period()->set_label("2025");
    req.add_indicator_ids("received");
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    watches.push_back(metrics_->WatchIndicators(contexts.back().get(), req));
    v1::IndicatorSet first;
    ASSERT_TRUE(watches.back()->Read(&first));  // running on its thread
  }
  EXPECT_TRUE(ServingWithin(false, absl::Seconds(5))) << "health still SERVING with every RPC thread busy";
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& w : watches) (void)w->Finish();
  EXPECT_TRUE(ServingWithin(true, absl::Seconds(5))) << "health not SERVING again once the threads are free";
}

}  // namespace
}  // namespace pstrack::testing
