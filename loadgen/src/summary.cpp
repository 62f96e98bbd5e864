#include "summary.hpp"

#include <algorithm>
#include <cmath>

namespace loadgen {

Percentiles percentiles(std::vector<double>& values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  auto rank = [&](double p) {
    auto i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(i, 1, values.size()) - 1];
  };
  return {rank(0.50), rank(0.95), rank(0.99)};
}

namespace {
nlohmann::json lag_json(const Lag& l) {
  return {{"count", l.count}, {"p50", l.p50_ms}, {"p99", l.p99_ms}, {"max", l.max_ms}};
}
}  // namespace

nlohmann::json to_json(const Summary& s) {
  return {
      {"profile", s.profile},
      {"kind", s.kind},
      {"spawner", s.spawner},
      {"count", s.count},
      {"asked", s.asked},
      {"spawned", s.spawned},
      {"failed", {{"count", s.failed}, {"reasons", s.failure_reasons}}},
      {"shed", s.shed},
      {"processes", {{"asked", s.processes_asked}, {"made", s.processes_made}}},
      {"asked_per_s", s.asked_per_s},
      {"start_lag_ms", lag_json(s.start_lag)},
      {"stop_lag_ms", lag_json(s.stop_lag)},
      {"spawn_seconds", s.spawn_seconds},
      {"spawn_latency_us",
       {{"p50", s.spawn_latency_us.p50},
        {"p95", s.spawn_latency_us.p95},
        {"p99", s.spawn_latency_us.p99}}},
      {"rate_per_s", s.rate_per_s},
      {"peak_live", s.peak_live},
      {"exits", s.exits},
      {"died_early", s.died_early},
      {"load_seconds", s.load_seconds},
      {"churn_per_s", s.churn_per_s},
      {"teardown_seconds", s.teardown_seconds},
      {"reaped_in_teardown", s.reaped_in_teardown},
      {"peak_rss_bytes", s.peak_rss_bytes},
      {"interrupted_by", s.interrupted_by},
  };
}

}  // namespace loadgen
