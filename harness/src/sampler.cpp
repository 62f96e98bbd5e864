#include "sampler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "deadline_grid.hpp"

namespace perfkit {
namespace {

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

void Sampler::start() {
  grid_.start([this](GridControl& stop) { return run(stop); });
}

GridResult Sampler::run(GridControl& stop) {
  const auto slow_every = std::max<std::int64_t>(1, std::llround(options_.hz / options_.slow_hz));
  FastReading fast;
  SlowReading slow;
  auto keep_hwm = [this](std::uint64_t hwm) {
    if (hwm > hwm_bytes_.load()) hwm_bytes_.store(hwm);  // this thread alone writes it
  };
  const GridResult grid = run_on_grid(options_.hz, stop, [&](std::int64_t k, double t) {
    if (series_.t.size() == series_.t.capacity()) {
      truncated_.store(true);
      return false;
    }
    switch (reader_.read_fast(fast)) {
      case ReadResult::kGone:
        exit_t_.store(t);
        return false;
      case ReadResult::kMalformed:
        malformed_.fetch_add(1);
        return true;
      case ReadResult::kOk:
        break;
    }
    series_.t.push_back(t);
    series_.rss_bytes.push_back(fast.rss_bytes);
    series_.cpu_ns.push_back(fast.cpu_ns);
    if (k % slow_every != 0 || series_.slow_t.size() == series_.slow_t.capacity()) return true;
    const ReadResult r = reader_.read_slow(slow);
    if (r == ReadResult::kMalformed) malformed_.fetch_add(1);
    if (r != ReadResult::kOk) return true;
    series_.slow_t.push_back(t);
    series_.threads.push_back(slow.threads);
    series_.open_fds.push_back(slow.open_fds);
    series_.voluntary_switches.push_back(slow.voluntary_switches);
    series_.involuntary_switches.push_back(slow.involuntary_switches);
    keep_hwm(slow.hwm_bytes);
    return true;
  });
  // The kernel's own peak, which sampling alone can miss, while it can still be read.
  if (exit_t_.load() < 0 && reader_.read_slow(slow) == ReadResult::kOk) keep_hwm(slow.hwm_bytes);
  return grid;
}

}  // namespace perfkit
