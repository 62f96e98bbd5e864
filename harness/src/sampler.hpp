#pragma once
// Samples one process on its own thread, on absolute deadlines (no drift),
// into storage allocated up front: nothing is allocated while sampling.

#include <cstdint>
#include <thread>
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
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void start();
  void stop();  // wakes and joins the thread at once; idempotent

  // Valid to read once stop() has returned.
  const Series& series() const { return series_; }
  std::uint64_t missed() const { return missed_; }  // deadlines passed unsampled
  bool exited() const { return exit_t_ >= 0; }
  double exit_t() const { return exit_t_; }               // seconds since start(), or -1
  std::uint64_t hwm_bytes() const { return hwm_bytes_; }  // last VmHWM read
  bool truncated() const { return truncated_; }           // storage filled up
  double duration_s() const { return duration_s_; }
  double self_cpu_s() const { return self_cpu_s_; }  // the sampling thread's own CPU

 private:
  void run();

  SamplerOptions options_;
  ProcessReader reader_;
  Series series_;
  std::thread thread_;
  GridStop stop_;
  std::uint64_t missed_ = 0, hwm_bytes_ = 0;
  double exit_t_ = -1, duration_s_ = 0, self_cpu_s_ = 0;
  bool truncated_ = false;
};

}  // namespace perfkit
