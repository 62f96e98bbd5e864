#pragma once
// When each child starts and stops, as a pure function of the profile: no
// clock, no process, so every profile is tested without spawning anything.
// The schedule is a generator: churn's lives are drawn as they are asked for,
// so its memory is bounded by the live count whatever the duration.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace loadgen {

enum class Profile { kSteady, kBurst, kRamp, kSpike, kChurn };

struct ProfileOptions {
  Profile profile = Profile::kSteady;
  std::size_t count = 100;        // children (live at once for churn; the peak for spike)
  double rate = 0;                // starts per second; 0 = as fast as possible
  double duration_s = 0;          // how long the load is held (see each profile)
  std::size_t burst_size = 0;     // burst: children per group; 0 = count / 10
  double burst_interval_s = 1.0;  // burst: time between groups
  std::size_t spike_base = 0;     // spike: live before and after; 0 = count / 10
  double churn_life_min_s = 0.5;  // churn: each child's life, uniform in [min, max]
  double churn_life_max_s = 1.5;
  std::uint64_t seed = 1;
};

constexpr double kUntilEnd = std::numeric_limits<double>::infinity();

struct ScheduledChild {
  std::uint64_t index = 0;  // its place in start order, from 0: who it is, whatever its pid
  double start_s = 0;
  double stop_s = kUntilEnd;  // kUntilEnd: stopped at teardown
};

// steady: `count` children started at `rate`, held `duration` after the last.
// burst:  groups of `burst_size` at once, every `burst_interval`, held `duration`.
// ramp:   starts spread evenly over `duration`: the live count grows linearly.
// spike:  `spike_base` children for a third of `duration`, then the rest at
//         once for a third, stopped together, then the base alone again.
// churn:  `count` slots kept live for `duration`; each child lives a random
//         life and is replaced at once when it ends. The same seed gives the
//         same lives.
class Schedule {
 public:
  // Throws std::invalid_argument on options no schedule can follow.
  explicit Schedule(const ProfileOptions& options);

  // The next child in start order, or nullopt once every start is given.
  std::optional<ScheduledChild> next();
  // When next() would start; kUntilEnd once every start is given.
  double next_start() const;
  std::uint64_t given() const { return given_; }

  // Teardown begins here (steady, burst: counted from the last start).
  double end_s() const { return end_s_; }
  // steady and burst hold `duration` after the last start, so a late last
  // start moves the end; the other profiles end at end_s() whatever happened.
  bool end_follows_last_start() const { return end_follows_last_start_; }
  // The most children alive at once.
  std::size_t peak_live() const { return peak_live_; }
  // Every start of the schedule: exact but for churn, whose count is the
  // expected one (each slot's time over the mean life).
  double expected_starts() const { return expected_starts_; }

 private:
  void make_churn();

  ProfileOptions o_;
  std::vector<ScheduledChild> fixed_;  // every profile but churn: `count` children
  std::size_t pos_ = 0;
  // churn: the next start of each slot still running, earliest first (ties by slot).
  std::priority_queue<std::pair<double, std::size_t>, std::vector<std::pair<double, std::size_t>>,
                      std::greater<>>
      slots_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> life_;
  std::uint64_t given_ = 0;
  double end_s_ = 0;
  bool end_follows_last_start_ = false;
  std::size_t peak_live_ = 0;
  double expected_starts_ = 0;
};

// The most children of `children` alive at once; a stop at the same instant
// as a start comes first (churn replaces a child as it ends).
std::size_t peak_live(const std::vector<ScheduledChild>& children);

// "steady" -> Profile::kSteady; throws std::invalid_argument otherwise.
Profile parse_profile(const std::string& name);
const char* to_string(Profile profile);

}  // namespace loadgen
