// A stop reaches the child scheduled, never a newer child that got its pid.
#include "stop_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace loadgen {
namespace {

// The old queue held (time, pid) and checked only that the pid was alive:
// with child 0 (pid 100) dead on its own and child 7 given pid 100 after the
// pid space wrapped, child 0's stop killed child 7. Keyed by index it does not.
TEST(StopQueue, AReusedPidIsNotKilledForTheChildItWasOnce) {
  StopQueue q;
  q.push(1.0, /*index=*/0, /*pid=*/100);
  q.push(2.0, /*index=*/3, /*pid=*/200);
  // Child 0 died early and was reaped; pid 100 is now child 7.
  std::map<pid_t, std::uint64_t> live{{100, 7}, {200, 3}};
  std::vector<pid_t> killed;
  auto still_ours = [&](pid_t pid, std::uint64_t index) {
    auto it = live.find(pid);
    return it != live.end() && it->second == index;
  };
  auto stop = [&](const StopQueue::Due& d) { killed.push_back(d.pid); };
  q.pop_due(1.5, still_ours, stop);
  EXPECT_TRUE(killed.empty()) << "child 7 was killed in child 0's place";
  q.pop_due(2.0, still_ours, stop);
  EXPECT_EQ(killed, std::vector<pid_t>{200});
  EXPECT_EQ(q.size(), 0u);
}

TEST(StopQueue, EarliestFirstAndOnlyWhenDue) {
  StopQueue q;
  EXPECT_EQ(q.next_stop(), kUntilEnd);
  q.push(3.0, 2, 30);
  q.push(1.0, 0, 10);
  q.push(2.0, 1, 20);
  EXPECT_EQ(q.next_stop(), 1.0);
  std::vector<double> when;
  q.pop_due(
      2.5, [](pid_t, std::uint64_t) { return true; },
      [&](const StopQueue::Due& d) { when.push_back(d.stop_s); });
  EXPECT_EQ(when, (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(q.next_stop(), 3.0);
}

}  // namespace
}  // namespace loadgen
