#include "sampler.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace perfkit {
namespace {

std::int64_t now_ns() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

void sleep_until_ns(std::int64_t deadline) {
  timespec ts{static_cast<time_t>(deadline / 1'000'000'000),
              static_cast<long>(deadline % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

template <typename... Columns>
void reserve_all(std::size_t n, Columns&... columns) {
  (columns.reserve(n), ...);
}

}  // namespace

Sampler::Sampler(const SamplerOptions& o) : options_(o), reader_(o.pid) {
  if (!(o.hz >= 1 && o.hz <= 10'000)) throw std::invalid_argument("hz must be in [1, 10000]");
  if (!(o.max_seconds > 0)) throw std::invalid_argument("max_seconds must be > 0");
  options_.slow_hz = std::clamp(o.slow_hz, 0.1, o.hz);
  const auto fast = static_cast<std::size_t>(std::ceil(o.hz * o.max_seconds)) + 1;
  const auto slow = static_cast<std::size_t>(std::ceil(options_.slow_hz * o.max_seconds)) + 1;
  reserve_all(fast, series_.t, series_.rss_bytes, series_.cpu_ns);
  reserve_all(slow, series_.slow_t, series_.threads, series_.open_fds, series_.voluntary_switches,
              series_.involuntary_switches);
}

Sampler::~Sampler() {
  stop();
}

void Sampler::start() {
  if (thread_.joinable()) throw std::logic_error("the sampler runs already");
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void Sampler::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Sampler::run() {
  const auto period = static_cast<std::int64_t>(1e9 / options_.hz);
  const auto slow_every = std::max<std::int64_t>(1, std::llround(options_.hz / options_.slow_hz));
  const std::int64_t t0 = now_ns();
  FastReading fast;
  SlowReading slow;
  for (std::int64_t i = 0; !stop_; ++i) {
    const std::int64_t now = now_ns();
    if (series_.t.size() == series_.t.capacity()) {
      truncated_ = true;
      break;
    }
    const double t = static_cast<double>(now - t0) * 1e-9;
    if (!reader_.read_fast(fast)) {
      exit_t_ = t;
      break;
    }
    series_.t.push_back(t);
    series_.rss_bytes.push_back(fast.rss_bytes);
    series_.cpu_ns.push_back(fast.cpu_ns);
    if (i % slow_every == 0 && series_.slow_t.size() < series_.slow_t.capacity() &&
        reader_.read_slow(slow)) {
      series_.slow_t.push_back(t);
      series_.threads.push_back(slow.threads);
      series_.open_fds.push_back(slow.open_fds);
      series_.voluntary_switches.push_back(slow.voluntary_switches);
      series_.involuntary_switches.push_back(slow.involuntary_switches);
      hwm_bytes_ = std::max(hwm_bytes_, slow.hwm_bytes);
    }
    // The next deadline on the grid t0 + k * period; ones already passed are missed.
    std::int64_t next = i + 1;
    const std::int64_t after = now_ns();
    if (t0 + next * period <= after) {
      const std::int64_t due = (after - t0) / period + 1;
      missed_ += static_cast<std::uint64_t>(due - next);
      next = due;
    }
    i = next - 1;
    sleep_until_ns(t0 + next * period);
  }
  // The kernel's own peak, which sampling alone can miss, while it can still be read.
  if (exit_t_ < 0 && reader_.read_slow(slow)) hwm_bytes_ = std::max(hwm_bytes_, slow.hwm_bytes);
  duration_s_ = static_cast<double>(now_ns() - t0) * 1e-9;
}

}  // namespace perfkit
