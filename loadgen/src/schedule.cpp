#include "schedule.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "enum_names.hpp"

namespace loadgen {
namespace {

// Start time of the i-th child at `rate` starts per second (0: all at once).
double at_rate(std::size_t i, double rate) {
  return rate > 0 ? static_cast<double>(i) / rate : 0;
}

Schedule steady(const ProfileOptions& o) {
  Schedule s;
  for (std::size_t i = 0; i < o.count; ++i) s.children.push_back({at_rate(i, o.rate), kUntilEnd});
  s.end_s = (o.count ? at_rate(o.count - 1, o.rate) : 0) + o.duration_s;
  return s;
}

Schedule burst(const ProfileOptions& o) {
  Schedule s;
  std::size_t size = o.burst_size ? o.burst_size : std::max<std::size_t>(1, o.count / 10);
  double last = 0;
  for (std::size_t i = 0; i < o.count; ++i) {
    last = static_cast<double>(i / size) * o.burst_interval_s;
    s.children.push_back({last, kUntilEnd});
  }
  s.end_s = last + o.duration_s;
  return s;
}

Schedule ramp(const ProfileOptions& o) {
  Schedule s;
  for (std::size_t i = 0; i < o.count; ++i)
    s.children.push_back(
        {o.duration_s * static_cast<double>(i) / static_cast<double>(o.count), kUntilEnd});
  s.end_s = o.duration_s;
  return s;
}

Schedule spike(const ProfileOptions& o) {
  Schedule s;
  std::size_t base = std::min(o.count, o.spike_base ? o.spike_base : o.count / 10);
  double third = o.duration_s / 3;
  for (std::size_t i = 0; i < base; ++i) s.children.push_back({at_rate(i, o.rate), kUntilEnd});
  double jump = std::max(third, base ? at_rate(base - 1, o.rate) : 0);
  for (std::size_t i = base; i < o.count; ++i) s.children.push_back({jump, jump + third});
  s.end_s = std::max(o.duration_s, jump + 2 * third);
  return s;
}

Schedule churn(const ProfileOptions& o) {
  if (o.churn_life_min_s <= 0 || o.churn_life_max_s < o.churn_life_min_s)
    throw std::invalid_argument("churn lives need 0 < min <= max");
  Schedule s;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> life(o.churn_life_min_s, o.churn_life_max_s);
  for (std::size_t slot = 0; slot < o.count; ++slot) {
    for (double t = at_rate(slot, o.rate); t < o.duration_s;) {
      double stop = t + life(rng);
      s.children.push_back({t, stop < o.duration_s ? stop : kUntilEnd});
      t = stop;
    }
  }
  std::stable_sort(s.children.begin(), s.children.end(),
                   [](const auto& a, const auto& b) { return a.start_s < b.start_s; });
  s.end_s = o.duration_s;
  return s;
}

}  // namespace

Schedule make_schedule(const ProfileOptions& o) {
  if (o.rate < 0 || o.duration_s < 0) throw std::invalid_argument("rate and duration must be >= 0");
  switch (o.profile) {
    case Profile::kSteady:
      return steady(o);
    case Profile::kBurst:
      return burst(o);
    case Profile::kRamp:
      return ramp(o);
    case Profile::kSpike:
      return spike(o);
    case Profile::kChurn:
      return churn(o);
  }
  throw std::invalid_argument("unknown profile");
}

std::size_t peak_live(const Schedule& schedule) {
  // +1 at each start, -1 at each stop; a stop at the same instant as a start
  // comes first (churn replaces a child as it ends).
  std::vector<std::pair<double, int>> events;
  for (const auto& c : schedule.children) {
    events.emplace_back(c.start_s, +1);
    if (c.stop_s != kUntilEnd) events.emplace_back(c.stop_s, -1);
  }
  std::sort(events.begin(), events.end());
  long live = 0, peak = 0;
  for (const auto& [t, delta] : events) peak = std::max(peak, live += delta);
  return static_cast<std::size_t>(peak);
}

constexpr NameTable<Profile, 5> kProfileNames{{{Profile::kSteady, "steady"},
                                               {Profile::kBurst, "burst"},
                                               {Profile::kRamp, "ramp"},
                                               {Profile::kSpike, "spike"},
                                               {Profile::kChurn, "churn"}}};

Profile parse_profile(const std::string& name) {
  return parse_name(kProfileNames, name, "profile");
}
const char* to_string(Profile profile) {
  return name_of(kProfileNames, profile);
}

}  // namespace loadgen
