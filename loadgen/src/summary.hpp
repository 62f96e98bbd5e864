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

struct Summary {
  std::string profile, kind, spawner;
  std::uint64_t count = 0;  // --count
  std::uint64_t asked = 0;  // children in the schedule (churn: every start)
  std::uint64_t spawned = 0;
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> failure_reasons;
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
