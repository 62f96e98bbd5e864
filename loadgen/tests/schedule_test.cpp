// Every profile's schedule, checked without spawning anything.
#include "schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace loadgen {
namespace {

TEST(Schedule, SteadyStartsAtTheRateAndHoldsUntilTheEnd) {
  Schedule s =
      make_schedule({.profile = Profile::kSteady, .count = 100, .rate = 50, .duration_s = 3});
  ASSERT_EQ(s.children.size(), 100u);
  EXPECT_DOUBLE_EQ(s.children[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(s.children[99].start_s, 99.0 / 50);
  EXPECT_DOUBLE_EQ(s.end_s, 99.0 / 50 + 3);
  for (const auto& c : s.children) EXPECT_EQ(c.stop_s, kUntilEnd);
  EXPECT_EQ(peak_live(s), 100u);
}

TEST(Schedule, SteadyWithoutRateStartsEveryoneAtOnce) {
  Schedule s = make_schedule({.profile = Profile::kSteady, .count = 10});
  for (const auto& c : s.children) EXPECT_EQ(c.start_s, 0.0);
  EXPECT_EQ(s.end_s, 0.0);
}

TEST(Schedule, BurstStartsGroupsAtIntervals) {
  Schedule s = make_schedule({.profile = Profile::kBurst,
                              .count = 25,
                              .duration_s = 2,
                              .burst_size = 10,
                              .burst_interval_s = 0.5});
  std::map<double, int> groups;
  for (const auto& c : s.children) ++groups[c.start_s];
  EXPECT_EQ(groups, (std::map<double, int>{{0.0, 10}, {0.5, 10}, {1.0, 5}}));
  EXPECT_DOUBLE_EQ(s.end_s, 3.0);
}

TEST(Schedule, RampGrowsTheLiveCountLinearly) {
  Schedule s = make_schedule({.profile = Profile::kRamp, .count = 1000, .duration_s = 10});
  // At any time t the number started is about count * t / duration.
  for (double t : {1.0, 2.5, 5.0, 9.0}) {
    auto started = std::count_if(s.children.begin(), s.children.end(),
                                 [t](const auto& c) { return c.start_s <= t; });
    EXPECT_NEAR(static_cast<double>(started), 1000 * t / 10, 1.0) << "t=" << t;
  }
  EXPECT_EQ(peak_live(s), 1000u);
}

TEST(Schedule, SpikeJumpsToTheCountAndBackToTheBase) {
  Schedule s =
      make_schedule({.profile = Profile::kSpike, .count = 100, .duration_s = 3, .spike_base = 10});
  auto live_at = [&](double t) {
    return std::count_if(s.children.begin(), s.children.end(), [t](const auto& c) {
      return c.start_s <= t && (c.stop_s == kUntilEnd || t < c.stop_s);
    });
  };
  EXPECT_EQ(live_at(0.5), 10);
  EXPECT_EQ(live_at(1.5), 100);
  EXPECT_EQ(live_at(2.5), 10);
  EXPECT_EQ(peak_live(s), 100u);
  EXPECT_DOUBLE_EQ(s.end_s, 3.0);
}

TEST(Schedule, ChurnKeepsTheCountLiveWithLivesInTheirRange) {
  ProfileOptions o{.profile = Profile::kChurn,
                   .count = 50,
                   .duration_s = 10,
                   .churn_life_min_s = 0.2,
                   .churn_life_max_s = 0.4,
                   .seed = 7};
  Schedule s = make_schedule(o);
  EXPECT_EQ(peak_live(s), 50u);  // a child is replaced the instant it stops
  // 50 slots, each of 10 s in lives of 0.3 s on average: about 1,667 starts.
  EXPECT_NEAR(static_cast<double>(s.children.size()), 50 * 10 / 0.3, 100);
  EXPECT_TRUE(std::is_sorted(s.children.begin(), s.children.end(),
                             [](const auto& a, const auto& b) { return a.start_s < b.start_s; }));
  for (const auto& c : s.children) {
    if (c.stop_s == kUntilEnd) continue;  // the last life of a slot runs to the end
    EXPECT_GE(c.stop_s - c.start_s, 0.2 - 1e-9);
    EXPECT_LE(c.stop_s - c.start_s, 0.4 + 1e-9);
  }
  // The same seed gives the same schedule; another seed another.
  Schedule again = make_schedule(o);
  ASSERT_EQ(again.children.size(), s.children.size());
  EXPECT_EQ(again.children.back().start_s, s.children.back().start_s);
  o.seed = 8;
  EXPECT_NE(make_schedule(o).children.back().start_s, s.children.back().start_s);
}

TEST(Schedule, BadOptionsAreRefused) {
  EXPECT_THROW(make_schedule({.rate = -1}), std::invalid_argument);
  EXPECT_THROW(make_schedule({.duration_s = -1}), std::invalid_argument);
  EXPECT_THROW(make_schedule({.profile = Profile::kChurn,
                              .duration_s = 1,
                              .churn_life_min_s = 0.5,
                              .churn_life_max_s = 0.1}),
               std::invalid_argument);
}

TEST(Schedule, PeakLiveCountsAStopBeforeAStartAtTheSameInstant) {
  Schedule s;
  s.children = {{0, 1}, {1, 2}, {2, kUntilEnd}};
  EXPECT_EQ(peak_live(s), 1u);
  s.children.push_back({0.5, 1.5});
  EXPECT_EQ(peak_live(s), 2u);
}

TEST(Schedule, ProfileNamesRoundTrip) {
  for (Profile p :
       {Profile::kSteady, Profile::kBurst, Profile::kRamp, Profile::kSpike, Profile::kChurn})
    EXPECT_EQ(parse_profile(to_string(p)), p);
  EXPECT_THROW(parse_profile("flat"), std::invalid_argument);
}

}  // namespace
}  // namespace loadgen
