#pragma once
// What one loadgen run did, and its JSON form.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace loadgen {

struct Percentiles {
  double p50 = 0, p95 = 0, p99 = 0;
};

// Nearest-rank percentiles; zeros for an empty set. Sorts `values`.
Percentiles percentiles(std::vector<double>& values);

// How late loadgen was against its schedule, in milliseconds.
struct Lag {
  std::uint64_t count = 0;  // starts (or stops) measured
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

struct Summary {
  std::string profile, kind, spawner;
  std::uint64_t count = 0;  // --count
  std::uint64_t asked = 0;  // starts the schedule had due by the end (churn: every start)
  std::uint64_t spawned = 0;
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> failure_reasons;
  // Starts not made because their time was gone when loadgen got to them
  // (the child's life, or the run, had ended), or because --count were alive.
  std::uint64_t shed = 0;
  // Processes of the children spawned, every node of a tree counted: asked
  // and made (a tree's root reports what it made; a fork refused is missing).
  std::uint64_t processes_asked = 0, processes_made = 0;
  double asked_per_s = 0;    // churn: the schedule's starts per second over its duration
  Lag start_lag, stop_lag;   // each start and each stop against its schedule
  double spawn_seconds = 0;  // first spawn to the last child running
  Percentiles spawn_latency_us;
  double rate_per_s = 0;  // spawned / spawn_seconds
  std::uint64_t peak_live = 0;
  std::uint64_t exits = 0;       // our children reaped before teardown
  std::uint64_t died_early = 0;  // of those, ones we had not stopped
  double load_seconds = 0;       // from the first spawn to the start of teardown
  double churn_per_s = 0;        // (spawned + exits) / load_seconds
  double teardown_seconds = 0;   // from the first kill to the last child reaped
  std::uint64_t reaped_in_teardown = 0;
  std::uint64_t peak_rss_bytes = 0;  // loadgen's own (VmHWM)
  int interrupted_by = 0;            // the signal that cut the run short, or 0
};

nlohmann::json to_json(const Summary& s);

}  // namespace loadgen
