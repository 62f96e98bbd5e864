#pragma once
// When subscribers fall behind, the daemon makes events more slowly: the
// fullest subscriber queue above the high mark, or a subscriber that has read
// nothing for a while though events wait for it (stalled), doubles the
// collection interval (up to a ceiling) and holds back synthetic events; once
// the fullest queue is below the low mark and none is stalled, the interval
// returns to its base. Between the marks nothing moves, so it does not flap.
// The stall is what reacts at any event rate: a queue fills at the rate's pace.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace procmond {

class Backpressure {
 public:
  using ms = std::chrono::milliseconds;
  Backpressure(ms base, ms max, std::size_t low_mark, std::size_t high_mark)
      : base_(base), max_(max), low_(low_mark), high_(high_mark), interval_(base) {}

  enum class Move { kNone, kStretched, kRestored };
  // Called whenever the fullest queue's depth may have changed.
  Move observe(std::size_t fullest_bytes, bool stalled = false) {
    if (fullest_bytes > high_ || stalled) {
      holding_ = true;
      if (stretched_) return Move::kNone;
      stretched_ = true;
      interval_ = std::min(max_, base_ * 2);
      ++stretches_;
      return Move::kStretched;
    }
    if (fullest_bytes < low_) holding_ = false;
    if (!stretched_ || fullest_bytes >= low_) return Move::kNone;
    // (a stall ended: reading again, and the queue below the low mark)
    stretched_ = false;
    interval_ = base_;
    ++restores_;
    return Move::kRestored;
  }
  // Each cycle that starts still stretched doubles again, up to the ceiling.
  void cycle_started() {
    if (stretched_) interval_ = std::min(max_, interval_ * 2);
  }

  ms interval() const { return interval_; }
  ms base() const { return base_; }
  bool stretched() const { return stretched_; }
  bool holding() const { return holding_; }  // above the high mark: hold synthetic events
  std::uint64_t stretches() const { return stretches_; }
  std::uint64_t restores() const { return restores_; }

 private:
  ms base_, max_;
  std::size_t low_, high_;
  ms interval_;
  bool stretched_ = false;
  bool holding_ = false;
  std::uint64_t stretches_ = 0, restores_ = 0;
};

}  // namespace procmond
