#pragma once
// Runs a sampling loop on absolute deadlines t0 + k * period: a late tick
// never shifts the ones after it, and deadlines already passed are counted
// as missed rather than run in a burst.

#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

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

// Calls tick(k, seconds_since_start) for each deadline k until tick returns
// false or `stop` is set. `stop` is checked after each wakeup, so stopping
// waits out at most one period.
template <typename Tick>
GridResult run_on_grid(double hz, const std::atomic<bool>& stop, Tick&& tick) {
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
      next = due;
    }
    k = next;
    const std::int64_t deadline = t0 + next * period;
    timespec ts{static_cast<time_t>(deadline / 1'000'000'000),
                static_cast<long>(deadline % 1'000'000'000)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    if (stop.load(std::memory_order_relaxed)) break;
  }
  result.duration_s = static_cast<double>(monotonic_ns() - t0) * 1e-9;
  result.cpu_s = thread_cpu_s() - cpu0;
  return result;
}

}  // namespace perfkit
