#pragma once
// Runs a sampling loop on absolute deadlines t0 + k * period: a late tick
// never shifts the ones after it, and deadlines already passed are counted
// as missed rather than run in a burst.

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <thread>

namespace perfkit {

inline std::int64_t monotonic_ns() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

struct GridResult {
  std::uint64_t missed = 0;
  double duration_s = 0;
  double cpu_s = 0;  // the loop's own CPU (this thread's clock): what sampling cost
};

inline double thread_cpu_s() {
  timespec t;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// What the grid's thread and its owner share: a stop request that wakes the
// sleeping grid at once (a 1 Hz sampler stops in microseconds, not after up
// to a second), and the count of missed deadlines, read while it grows. The
// sleep is one futex wait with an absolute CLOCK_MONOTONIC deadline, which
// costs what clock_nanosleep does; a condition variable cost about 0.08 % of
// a core more at 100 Hz here.
class GridControl {
 public:
  void request() {
    word_.store(1);
    ::syscall(SYS_futex, &word_, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, nullptr, nullptr, 0);
  }
  void reset() {
    word_.store(0);
    missed_.store(0);
  }
  void add_missed(std::uint64_t n) { missed_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t missed() const { return missed_.load(std::memory_order_relaxed); }
  // Sleeps until the deadline (ns on CLOCK_MONOTONIC) or a request: true then.
  bool sleep_until_ns(std::int64_t deadline) {
    const timespec until{static_cast<time_t>(deadline / 1'000'000'000),
                         static_cast<long>(deadline % 1'000'000'000)};
    while (word_.load() == 0) {
      // FUTEX_WAIT_BITSET takes an absolute time on CLOCK_MONOTONIC.
      if (::syscall(SYS_futex, &word_, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, &until, nullptr,
                    FUTEX_BITSET_MATCH_ANY) == -1 &&
          errno == ETIMEDOUT)
        return false;
    }  // EINTR, EAGAIN (already requested) and spurious wakeups check the word again
    return true;
  }

 private:
  std::atomic<std::uint32_t> word_{0};  // the futex: 1 once a stop is requested
  std::atomic<std::uint64_t> missed_{0};
  static_assert(sizeof(word_) == 4 && std::atomic<std::uint32_t>::is_always_lock_free);
};

// Calls tick(k, seconds_since_start) for each deadline k until tick returns
// false or a stop is requested.
template <typename Tick>
GridResult run_on_grid(double hz, GridControl& stop, Tick&& tick) {
  const auto period = static_cast<std::int64_t>(1e9 / hz);
  const std::int64_t t0 = monotonic_ns();
  const double cpu0 = thread_cpu_s();
  GridResult result;
  // The first tick always runs: a sampler stopped at once still has one sample.
  for (std::int64_t k = 0;;) {
    if (!tick(k, static_cast<double>(monotonic_ns() - t0) * 1e-9)) break;
    std::int64_t next = k + 1;
    const std::int64_t after = monotonic_ns();
    if (t0 + next * period <= after) {
      const std::int64_t due = (after - t0) / period + 1;
      result.missed += static_cast<std::uint64_t>(due - next);
      stop.add_missed(static_cast<std::uint64_t>(due - next));
      next = due;
    }
    k = next;
    if (stop.sleep_until_ns(t0 + next * period)) break;
  }
  result.duration_s = static_cast<double>(monotonic_ns() - t0) * 1e-9;
  result.cpu_s = thread_cpu_s() - cpu0;
  return result;
}

// The thread a sampler runs its grid on: start() runs body(stop) there, which
// returns the grid's result; stop() wakes it at once and joins. A sampler
// declares it last, so it is joined before the storage the body writes goes.
// It runs once: a second start() would append a series whose clock restarts
// at 0 to the first, so it is refused.
class GridThread {
 public:
  GridThread() = default;
  GridThread(const GridThread&) = delete;
  GridThread& operator=(const GridThread&) = delete;
  ~GridThread() { stop(); }

  template <typename Body>
  void start(Body body) {
    if (started_) throw std::logic_error("a sampler samples once; make a new one");
    started_ = true;
    stop_.reset();
    thread_ = std::thread([this, body] { result_ = body(stop_); });
  }
  void stop() {  // idempotent
    stop_.request();
    if (thread_.joinable()) thread_.join();
  }
  const GridResult& result() const { return result_; }     // valid once stop() returned
  std::uint64_t missed() const { return stop_.missed(); }  // at any time

 private:
  bool started_ = false;
  GridControl stop_;
  GridResult result_;
  std::thread thread_;
};

}  // namespace perfkit
