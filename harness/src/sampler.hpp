#pragma once
// Samples one process on its own thread, on absolute deadlines (no drift),
// into storage allocated up front: nothing is allocated while sampling.

#include <atomic>
#include <cstdint>
#include <vector>

#include "deadline_grid.hpp"
#include "process_reader.hpp"

namespace perfkit {

struct SamplerOptions {
  pid_t pid = 0;
  double hz = 100;            // 1 Hz .. 10 kHz
  double slow_hz = 10;        // fds, context switches, VmHWM; at most hz
  double max_seconds = 3600;  // storage for this long; sampling stops when full
};

// One column per field; the slow columns have their own times.
struct Series {
  std::vector<double> t;  // seconds since start()
  std::vector<std::uint64_t> rss_bytes, cpu_ns;
  std::vector<double> slow_t;
  std::vector<std::uint32_t> threads;
  std::vector<std::int64_t> open_fds;
  std::vector<std::uint64_t> voluntary_switches, involuntary_switches;
};

class Sampler {
 public:
  // Throws std::system_error (ESRCH, EACCES) when the pid cannot be sampled.
  explicit Sampler(const SamplerOptions& options);

  // Runs once; a second call throws std::logic_error.
  void start();
  void stop() { grid_.stop(); }  // wakes and joins the thread at once; idempotent

  // Valid to read once stop() has returned.
  const Series& series() const { return series_; }
  // These may be read at any time, while the sampling thread writes them.
  std::uint64_t missed() const { return grid_.missed(); }  // deadlines passed unsampled
  bool exited() const { return exit_t_.load() >= 0; }
  double exit_t() const { return exit_t_.load(); }               // seconds since start(), or -1
  std::uint64_t hwm_bytes() const { return hwm_bytes_.load(); }  // highest VmHWM read
  bool truncated() const { return truncated_.load(); }           // storage filled up
  // Reads whose text did not parse: skipped, never taken for a 0.
  std::uint64_t malformed() const { return malformed_.load(); }
  double duration_s() const { return grid_.result().duration_s; }
  double self_cpu_s() const { return grid_.result().cpu_s; }  // the sampling thread's own CPU

 private:
  GridResult run(GridControl& stop);

  SamplerOptions options_;
  ProcessReader reader_;
  Series series_;
  std::atomic<std::uint64_t> hwm_bytes_{0};
  std::atomic<double> exit_t_{-1};
  std::atomic<bool> truncated_{false};
  std::atomic<std::uint64_t> malformed_{0};
  GridThread grid_;  // last: joined before the members it writes are destroyed
};

}  // namespace perfkit
