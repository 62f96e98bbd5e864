#include "schedule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "enum_names.hpp"

namespace loadgen {
namespace {

// Start time of the i-th child at `rate` starts per second (0: all at once).
double at_rate(std::size_t i, double rate) {
  return rate > 0 ? static_cast<double>(i) / rate : 0;
}

// The profiles whose children are at most `count`: kept whole, in start order.
std::vector<ScheduledChild> fixed_children(const ProfileOptions& o, double& end_s) {
  std::vector<ScheduledChild> c;
  c.reserve(o.count);
  auto add = [&](double start, double stop) { c.push_back({c.size(), start, stop}); };
  switch (o.profile) {
    case Profile::kSteady:
      for (std::size_t i = 0; i < o.count; ++i) add(at_rate(i, o.rate), kUntilEnd);
      end_s = (o.count ? at_rate(o.count - 1, o.rate) : 0) + o.duration_s;
      break;
    case Profile::kBurst: {
      const std::size_t size = o.burst_size ? o.burst_size : std::max<std::size_t>(1, o.count / 10);
      double last = 0;
      for (std::size_t i = 0; i < o.count; ++i)
        add(last = static_cast<double>(i / size) * o.burst_interval_s, kUntilEnd);
      end_s = last + o.duration_s;
      break;
    }
    case Profile::kRamp:
      for (std::size_t i = 0; i < o.count; ++i)
        add(o.duration_s * static_cast<double>(i) / static_cast<double>(o.count), kUntilEnd);
      end_s = o.duration_s;
      break;
    case Profile::kSpike: {
      const std::size_t base = std::min(o.count, o.spike_base ? o.spike_base : o.count / 10);
      const double third = o.duration_s / 3;
      for (std::size_t i = 0; i < base; ++i) add(at_rate(i, o.rate), kUntilEnd);
      const double jump = std::max(third, base ? at_rate(base - 1, o.rate) : 0);
      for (std::size_t i = base; i < o.count; ++i) add(jump, jump + third);
      end_s = std::max(o.duration_s, jump + 2 * third);
      break;
    }
    case Profile::kChurn:
      break;
  }
  return c;
}

}  // namespace

Schedule::Schedule(const ProfileOptions& o) : o_(o), rng_(o.seed) {
  if (!(o.rate >= 0) || !(o.duration_s >= 0) || !std::isfinite(o.rate) ||
      !std::isfinite(o.duration_s))
    throw std::invalid_argument("rate and duration must be finite and >= 0");
  if (o.profile == Profile::kChurn) {
    make_churn();
    return;
  }
  fixed_ = fixed_children(o, end_s_);
  end_follows_last_start_ = o.profile == Profile::kSteady || o.profile == Profile::kBurst;
  peak_live_ = loadgen::peak_live(fixed_);
  expected_starts_ = static_cast<double>(fixed_.size());
}

void Schedule::make_churn() {
  if (!(o_.churn_life_min_s > 0) || !(o_.churn_life_max_s >= o_.churn_life_min_s) ||
      !std::isfinite(o_.churn_life_max_s))
    throw std::invalid_argument("churn lives need 0 < min <= max");
  life_ = std::uniform_real_distribution<double>(o_.churn_life_min_s, o_.churn_life_max_s);
  double slot_seconds = 0;
  for (std::size_t slot = 0; slot < o_.count; ++slot) {
    const double first = at_rate(slot, o_.rate);
    if (first >= o_.duration_s) break;  // later slots start later still
    slots_.emplace(first, slot);
    slot_seconds += o_.duration_s - first;
  }
  // A slot's child is replaced the instant it stops: one live child per slot.
  peak_live_ = slots_.size();
  expected_starts_ = slot_seconds / ((o_.churn_life_min_s + o_.churn_life_max_s) / 2);
  end_s_ = o_.duration_s;
}

std::optional<ScheduledChild> Schedule::next() {
  if (o_.profile != Profile::kChurn) {
    if (pos_ == fixed_.size()) return std::nullopt;
    ++given_;
    return fixed_[pos_++];
  }
  if (slots_.empty()) return std::nullopt;
  const auto [start, slot] = slots_.top();
  slots_.pop();
  const double stop = start + life_(rng_);
  if (stop < o_.duration_s) slots_.emplace(stop, slot);  // its successor
  return ScheduledChild{given_++, start, stop < o_.duration_s ? stop : kUntilEnd};
}

double Schedule::next_start() const {
  if (o_.profile != Profile::kChurn) return pos_ < fixed_.size() ? fixed_[pos_].start_s : kUntilEnd;
  return slots_.empty() ? kUntilEnd : slots_.top().first;
}

std::size_t peak_live(const std::vector<ScheduledChild>& children) {
  // +1 at each start, -1 at each stop; a stop sorts before a start at the same time.
  std::vector<std::pair<double, int>> events;
  for (const auto& c : children) {
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
