#include "run_tally.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace loadgen {
namespace {

Lag lag_of(const Histogram& h) {
  return {h.count(), h.percentile(0.50) / 1e3, h.percentile(0.99) / 1e3, h.max() / 1e3};
}

}  // namespace

RunTally::RunTally(const RunOptions& o)
    : churn_(o.profile.profile == Profile::kChurn), per_child_(processes_per_child(o)) {
  s_.profile = to_string(o.profile.profile);
  s_.kind = to_string(o.kind);
  s_.spawner = to_string(spawn_path_of(o));
  s_.count = o.profile.count;
}

void RunTally::started(const SpawnResult& r, double lag_s, double spawn_s, std::size_t live) {
  last_start_lag_s_ = std::max(0.0, lag_s);
  start_lag_.record(last_start_lag_s_ * 1e6);
  latency_us_.record(spawn_s * 1e6);
  ++s_.spawned;
  s_.peak_live = std::max<std::uint64_t>(s_.peak_live, live);
  s_.processes_asked += per_child_;
  s_.processes_made += std::min<std::uint64_t>(r.nodes, per_child_);
  if (r.nodes < per_child_)  // a short tree: said, with why, not passed for whole
    s_.failure_reasons[std::string("tree: ") + (r.tree_error ? std::strerror(r.tree_error)
                                                             : "short")] += per_child_ - r.nodes;
}

void RunTally::failed(const SpawnResult& r) {
  ++s_.failed;
  ++s_.failure_reasons[std::strerror(r.error)];
}

void RunTally::exited(bool stopped_by_us) {
  ++s_.exits;
  if (!stopped_by_us) ++s_.died_early;
}

Summary RunTally::finish(const Schedule& schedule, const Times& t, int interrupted_by,
                         std::uint64_t own_peak_rss_bytes) {
  const bool spawned_any = t.first_spawn_s >= 0;
  s_.interrupted_by = interrupted_by;
  s_.load_seconds = spawned_any ? t.teardown_start_s - t.first_spawn_s : 0;
  s_.teardown_seconds = t.teardown_s;
  s_.asked = schedule.given();
  // Over the schedule's time that came (a run held with --duration 1e9 is
  // interrupted); elsewhere starts come at once or at --rate.
  if (const double asked_over = std::min(schedule.end_s(), t.schedule_elapsed_s);
      churn_ && asked_over > 0)
    s_.asked_per_s = static_cast<double>(s_.asked) / asked_over;
  s_.spawn_seconds = spawned_any ? t.last_spawn_s - t.first_spawn_s : 0;
  s_.rate_per_s = s_.spawn_seconds > 0 ? static_cast<double>(s_.spawned) / s_.spawn_seconds : 0;
  s_.churn_per_s =
      s_.load_seconds > 0 ? static_cast<double>(s_.spawned + s_.exits) / s_.load_seconds : 0;
  s_.spawn_latency_us = {latency_us_.percentile(0.50), latency_us_.percentile(0.95),
                         latency_us_.percentile(0.99)};
  s_.start_lag = lag_of(start_lag_);
  s_.stop_lag = lag_of(stop_lag_);
  s_.peak_rss_bytes = own_peak_rss_bytes;
  return s_;
}

}  // namespace loadgen
