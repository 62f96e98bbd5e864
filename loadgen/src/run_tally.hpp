#pragma once
// What a run delivered, counted as it goes: each start against its schedule
// (its lag), each stop's lag, exits, starts shed or failed, a short tree's
// missing nodes; and the summary they make at the end. No process, no clock:
// the run hands it the times.

#include <cstdint>

#include "histogram.hpp"
#include "run_options.hpp"
#include "schedule.hpp"
#include "spawner.hpp"
#include "summary.hpp"

namespace loadgen {

class RunTally {
 public:
  explicit RunTally(const RunOptions& options);

  // A child started `lag_s` after its scheduled time, its spawn call taking
  // `spawn_s`, with `live` children alive now (it included).
  void started(const SpawnResult& r, double lag_s, double spawn_s, std::size_t live);
  void failed(const SpawnResult& r);
  void stopped(double lag_s) { stop_lag_.record(lag_s * 1e6); }
  void shed(std::uint64_t n = 1) { s_.shed += n; }
  // A child of ours reaped during the run; `stopped_by_us` false: it died on its own.
  void exited(bool stopped_by_us);
  void reaped_in_teardown() { ++s_.reaped_in_teardown; }

  double last_start_lag_s() const { return last_start_lag_s_; }
  const Summary& so_far() const { return s_; }
  double start_lag_max_ms() const { return start_lag_.max() / 1e3; }

  struct Times {
    double first_spawn_s, last_spawn_s;  // on loadgen's clock; first < 0: none
    double teardown_start_s, teardown_s;
    double schedule_elapsed_s;  // of the schedule's own time, when teardown began
  };
  // The summary: counts, rates over the times given, lags as percentiles.
  Summary finish(const Schedule& schedule, const Times& times, int interrupted_by,
                 std::uint64_t own_peak_rss_bytes);

 private:
  Summary s_;
  const bool churn_;
  const std::uint64_t per_child_;  // processes a child should be: a tree's every node
  Histogram latency_us_, start_lag_, stop_lag_;
  double last_start_lag_s_ = 0;
};

}  // namespace loadgen
