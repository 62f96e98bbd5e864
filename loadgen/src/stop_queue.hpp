#pragma once
// The children due to stop, earliest first. An entry names the child by its
// schedule index as well as its pid: a child that died on its own leaves its
// entry behind, and once the pid space wraps (churn wraps 32,768 pids in
// seconds) that pid is a newer child, which must not be killed in its place.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <queue>
#include <tuple>
#include <vector>

#include "schedule.hpp"

namespace loadgen {

class StopQueue {
 public:
  struct Due {
    pid_t pid;
    std::uint64_t index;
    double stop_s;
  };

  void push(double stop_s, std::uint64_t index, pid_t pid) { q_.emplace(stop_s, index, pid); }
  double next_stop() const { return q_.empty() ? kUntilEnd : std::get<0>(q_.top()); }
  std::size_t size() const { return q_.size(); }

  // Hands each entry due by `t` to `stop` when `still_ours(pid, index)` says
  // that pid is still the child scheduled at that index; drops it otherwise.
  template <typename StillOurs, typename Stop>
  void pop_due(double t, StillOurs still_ours, Stop stop) {
    while (!q_.empty() && std::get<0>(q_.top()) <= t) {
      const auto [stop_s, index, pid] = q_.top();
      q_.pop();
      if (still_ours(pid, index)) stop(Due{pid, index, stop_s});
    }
  }

 private:
  using Entry = std::tuple<double, std::uint64_t, pid_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> q_;
};

}  // namespace loadgen
