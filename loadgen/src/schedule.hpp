#pragma once
// When each child starts and stops, as a pure function of the profile: no
// clock, no process, so every profile is tested without spawning anything.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
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
  double start_s;
  double stop_s;  // kUntilEnd: stopped at teardown
};

struct Schedule {
  std::vector<ScheduledChild> children;  // by start time
  double end_s = 0;                      // teardown begins here
};

// steady: `count` children started at `rate`, held `duration` after the last.
// burst:  groups of `burst_size` at once, every `burst_interval`, held `duration`.
// ramp:   starts spread evenly over `duration`: the live count grows linearly.
// spike:  `spike_base` children for a third of `duration`, then the rest at
//         once for a third, stopped together, then the base alone again.
// churn:  `count` slots kept live for `duration`; each child lives a random
//         life and is replaced at once when it ends.
Schedule make_schedule(const ProfileOptions& options);

// The most children the schedule has alive at once.
std::size_t peak_live(const Schedule& schedule);

// "steady" -> Profile::kSteady; throws std::invalid_argument otherwise.
Profile parse_profile(const std::string& name);
const char* to_string(Profile profile);

}  // namespace loadgen
