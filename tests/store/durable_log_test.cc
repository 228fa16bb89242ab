// Durability outside the write lock: DurableLog's tickets and shared
// flushes, GroupCommit handing its lead on early, and the store calling
// `released` with its write lock free.
#include "storage/durable_log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "services/common/group_commit.h"
#include "services/common/status.h"
#include "storage/store.h"
#include "tests/test_database.h"

namespace pstrack {
namespace {

TEST(DurableLogTest, EveryWaitEndsAfterAFlushThatBeganAfterItsCommit) {
  // A "file" whose writes become durable only when a flush that began after
  // them ends: `written` counts writes, a flush makes durable what was
  // written when it began.
  std::mutex file_mu;
  int64_t written = 0, durable = 0;
  std::atomic<int> flushing{0};
  DurableLog log([&]() -> absl::Status {
    EXPECT_EQ(flushing.fetch_add(1), 0) << "two flushes at once";
    int64_t covers;
    {
      std::lock_guard lock(file_mu);
      covers = written;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    {
      std::lock_guard lock(file_mu);
      durable = std::max(durable, covers);
    }
    flushing.fetch_sub(1);
    return absl::OkStatus();
  });
  constexpr int kThreads = 16, kWrites = 50;
  std::mutex write_lock;  // the store's write lock
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) {
        uint64_t ticket;
        int64_t mine;
        {
          std::lock_guard lock(write_lock);
          std::lock_guard file(file_mu);
          mine = ++written;  // the commit's pages reach the file...
          ticket = log.Committed();  // ...then it takes its ticket
        }
        log.WaitDurable(ticket);
        std::lock_guard file(file_mu);
        EXPECT_GE(durable, mine) << "returned before its commit was flushed";
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LT(log.flushes(), kThreads * kWrites / 2) << "concurrent commits did not share flushes";
  EXPECT_GE(log.flushes(), 1);
}

TEST(DurableLogTest, AWaitForATicketAlreadyFlushedDoesNotFlushAgain) {
  int flushes = 0;
  DurableLog log([&] {
    ++flushes;
    return absl::OkStatus();
  });
  const uint64_t first = log.Committed();
  log.WaitDurable(first);
  EXPECT_EQ(flushes, 1);
  log.WaitDurable(first);
  EXPECT_EQ(flushes, 1);
  log.WaitDurable(log.Committed());
  EXPECT_EQ(flushes, 2);
}

TEST(DurableLogDeathTest, AFailedFlushStopsTheProcess) {
  DurableLog log([] { return absl::InternalError("cannot flush the write-ahead log 'x': Input/output error"); });
  EXPECT_DEATH(log.WaitDurable(log.Committed()), "Input/output error");
}

TEST(DurableLogTest, FileFlushFollowsTheFileAndTreatsAMissingOneAsFlushed) {
  testing::TempDir dir;
  const std::string path = dir.File("x.db-wal");
  auto flush = DurableLog::FileFlush(path);
  EXPECT_TRUE(flush().ok()) << "no log yet: nothing to flush";
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("frames", f);
  std::fclose(f);
  EXPECT_TRUE(flush().ok());
  // Replaced by another file of the same name: flushed by name, not by the
  // descriptor of the removed one.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  EXPECT_TRUE(flush().ok());
  // A path that cannot name a file (its "directory" is a file): an error
  // naming it, not a silent success.
  auto under_a_file = DurableLog::FileFlush(path + "/inner-wal");
  const absl::Status failed = under_a_file();
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal);
  EXPECT_NE(failed.message().find("inner-wal"), absl::string_view::npos) << failed;
}

TEST(GroupCommitTest, TheNextGroupStartsOnceTheLeadIsHandedOn) {
  std::promise<void> second_started;
  std::shared_future<void> started = second_started.get_future().share();
  std::atomic<int> flushes{0};
  std::promise<void> first_handed_on;
  GroupCommit<int> commit([&](std::vector<int*>& group, absl::FunctionRef<void()> hand_on) {
    if (flushes.fetch_add(1) == 0) {
      hand_on();  // its transaction is over; the durable wait comes next
      first_handed_on.set_value();
      // The next group must be able to run now, not after this returns.
      EXPECT_EQ(started.wait_for(std::chrono::seconds(20)), std::future_status::ready)
          << "the next group waited for this one's flush";
    } else {
      second_started.set_value();
    }
    (void)group;
  });
  int a = 1, b = 2;
  std::thread first([&] { commit.Submit(&a); });
  first_handed_on.get_future().wait();
  commit.Submit(&b);
  first.join();
  EXPECT_EQ(flushes, 2);
}

AuditRow Row(const std::string& principal) {
  AuditRow row;
  row.at_us = 1;
  row.principal = principal;
  row.method = "/test";
  return row;
}

TEST(StoreWriteTest, ReleasedRunsWithTheWriteLockFreeBeforeTheWriteReturns) {
  testing::TempDir dir;
  auto opened = OpenStore(testing::TestDatabaseUrl(dir, "released.db"));
  ASSERT_TRUE(opened.ok()) << opened.status();
  Store& store = **opened;
  bool released = false, other_committed = false;
  absl::Status status = store.Write(
      [&](WriteTransaction& tx) { return tx.InsertAudit({Row("first")}); },
      [&] {
        released = true;
        // Another writer gets the lock here; with the lock still held it
        // would wait for the busy timeout and fail.
        auto other = std::async(std::launch::async, [&] {
          return store.Write([&](WriteTransaction& tx) { return tx.InsertAudit({Row("second")}); });
        });
        if (other.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
          // The other writer waits for this one's lock: it would never end.
          std::fprintf(stderr, "FAILED: released ran with the write lock held\n");
          std::_Exit(1);
        }
        EXPECT_TRUE(other.get().ok());
        other_committed = true;
      });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(released);
  EXPECT_TRUE(other_committed);
  AuditQuery everyone;
  std::vector<AuditRow> rows;
  ASSERT_TRUE(store.Read([&](ReadTransaction& tx) -> absl::Status {
    PSTRACK_ASSIGN_OR_RETURN(rows, tx.ListAudit(everyone));
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(rows.size(), 2u);
  // Called after a failed transaction too (the lock is free then as well).
  released = false;
  status = store.Write([](WriteTransaction&) { return absl::InvalidArgumentError("x: no"); }, [&] { released = true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(released);
}

}  // namespace
}  // namespace pstrack
