// The trainer's one prefetch thread: each started task runs once, on
// another thread, Wait returns its status, and Wait with nothing started is
// OK.
#include "worker/background_task.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace psrec {
namespace {

TEST(BackgroundTaskTest, RunsEachTaskOnceOnOneOtherThreadAndReturnsItsStatus) {
  BackgroundTask task;
  EXPECT_TRUE(task.Wait().ok()) << "nothing started";
  std::atomic<int> runs{0};
  std::thread::id first_thread;
  for (int i = 0; i < 100; ++i) {
    std::thread::id ran_on;
    task.Start([&, i]() -> absl::Status {
      ran_on = std::this_thread::get_id();
      runs.fetch_add(1);
      return i % 3 == 0 ? absl::UnavailableError("odd one") : absl::OkStatus();
    });
    const absl::Status s = task.Wait();
    EXPECT_EQ(s.ok(), i % 3 != 0) << i;
    EXPECT_NE(ran_on, std::this_thread::get_id());
    if (i == 0) first_thread = ran_on;
    EXPECT_EQ(ran_on, first_thread) << "a new thread for task " << i;
    EXPECT_TRUE(task.Wait().ok()) << "a second Wait sees no task";
  }
  EXPECT_EQ(runs.load(), 100);
}

TEST(BackgroundTaskTest, DestructorWaitsForARunningTask) {
  std::atomic<bool> finished{false};
  {
    BackgroundTask task;
    task.Start([&]() -> absl::Status {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      finished = true;
      return absl::OkStatus();
    });
  }
  EXPECT_TRUE(finished.load());
}

}  // namespace
}  // namespace psrec
