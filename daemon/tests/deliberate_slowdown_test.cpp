// PROCMOND_DELIBERATE_SLOWDOWN_NS: its parsing, and that it really slows a
// collector's cycle (the perf suite relies on it to prove it catches a
// regression).

#include "deliberate_slowdown.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "collector.hpp"
#include "forked_children.hpp"

namespace procmond {
namespace {

using namespace std::chrono_literals;

// Sets the variable for a scope (nullptr: unsets it), then puts back what was there.
class ScopedSlowdownVar {
 public:
  explicit ScopedSlowdownVar(const char* value) {
    if (const char* old = std::getenv(kDeliberateSlowdownVar)) old_ = old;
    set(value);
  }
  ~ScopedSlowdownVar() { set(old_ ? old_->c_str() : nullptr); }
  ScopedSlowdownVar(const ScopedSlowdownVar&) = delete;
  ScopedSlowdownVar& operator=(const ScopedSlowdownVar&) = delete;

 private:
  static void set(const char* value) {
    if (value)
      ::setenv(kDeliberateSlowdownVar, value, 1);
    else
      ::unsetenv(kDeliberateSlowdownVar);
  }
  std::optional<std::string> old_;
};

TEST(DeliberateSlowdown, UnsetEmptyAndZeroAreNone) {
  EXPECT_EQ(deliberate_slowdown_ns(nullptr), 0ns);
  EXPECT_EQ(deliberate_slowdown_ns(""), 0ns);
  EXPECT_EQ(deliberate_slowdown_ns("0"), 0ns);
  EXPECT_EQ(deliberate_slowdown_ns("000"), 0ns);
}

TEST(DeliberateSlowdown, DigitsAreNanoseconds) {
  EXPECT_EQ(deliberate_slowdown_ns("1"), 1ns);
  EXPECT_EQ(deliberate_slowdown_ns("200000"), 200000ns);
  EXPECT_EQ(deliberate_slowdown_ns("9223372036854775807"),
            std::chrono::nanoseconds(9223372036854775807));
}

TEST(DeliberateSlowdown, AnythingElseIsRefusedNamingTheVariableAndTheValue) {
  for (const char* bad : {"-1", "-0", "+5", " 5", "5 ", "1.5", "1e3", "5ns", "abc", "0x10",
                          "9223372036854775808", "99999999999999999999999"}) {
    try {
      deliberate_slowdown_ns(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {  // BadDeliberateKnob is one
      const std::string what = e.what();
      EXPECT_NE(what.find("PROCMOND_DELIBERATE_SLOWDOWN_NS"), std::string::npos) << what;
      EXPECT_NE(what.find(std::string("\"") + bad + "\""), std::string::npos) << what;
    }
  }
}

TEST(DeliberateSlowdown, ABadValueRefusesTheCollector) {
  ScopedSlowdownVar knob("fast");
  EXPECT_THROW(make_collector(), BadDeliberateKnob);
}

TEST(DeliberateSlowdown, SpinsAtLeastAsLongAsAsked) {
  const auto start = std::chrono::steady_clock::now();
  spin_for(2ms);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2ms);
}

class SlowdownModes : public ::testing::TestWithParam<StatMode> {};

INSTANTIATE_TEST_SUITE_P(Modes, SlowdownModes, ::testing::Values(StatMode::kPlain, StatMode::kHeld),
                         [](const auto& p) { return std::string(to_string(p.param)); });

struct TimedCycle {
  std::chrono::nanoseconds took;
  std::size_t listed;
};

// A warm cycle (the second: identities read, stat fds held) over the real /proc.
TimedCycle timed_warm_cycle(StatMode mode) {
  auto collector = make_collector({.mode = mode});
  collector->collect();
  const auto start = std::chrono::steady_clock::now();
  const Snapshot& s = collector->collect();
  return {std::chrono::steady_clock::now() - start, s.stats.listed};
}

// Only a lower bound, which cannot flake: the knob spins at least N ns per
// process listed, however loaded the machine. An upper bound would.
TEST_P(SlowdownModes, EachProcessListedCostsTheCycleAtLeastTheKnob) {
  testing::ForkedChildren children;
  children.resize_paused(50);  // over 50 processes, whatever the machine runs
  constexpr auto kKnob = 200000ns;
  TimedCycle plain, slowed;
  {
    ScopedSlowdownVar knob("0");
    plain = timed_warm_cycle(GetParam());
  }
  {
    ScopedSlowdownVar knob(std::to_string(kKnob.count()).c_str());
    slowed = timed_warm_cycle(GetParam());
  }
  ASSERT_GT(slowed.listed, 50u);
  const auto floor = kKnob * static_cast<std::int64_t>(slowed.listed) * 9 / 10;
  EXPECT_GE(slowed.took, floor) << slowed.listed << " processes; without the knob the cycle took "
                                << plain.took.count() << " ns over " << plain.listed;
  RecordProperty("cycle_ns_without_knob", std::to_string(plain.took.count()));
  RecordProperty("cycle_ns_with_knob", std::to_string(slowed.took.count()));
}

}  // namespace
}  // namespace procmond
