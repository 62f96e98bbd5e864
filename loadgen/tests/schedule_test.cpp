// Every profile's schedule, checked without spawning anything.
#include "schedule.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace loadgen {
namespace {

// Every child of the schedule, in the order the runner gets them.
std::vector<ScheduledChild> all_of(Schedule& s) {
  std::vector<ScheduledChild> out;
  while (auto c = s.next()) out.push_back(*c);
  return out;
}

std::vector<ScheduledChild> all_of(const ProfileOptions& o) {
  Schedule s(o);
  return all_of(s);
}

TEST(Schedule, SteadyStartsAtTheRateAndHoldsUntilTheEnd) {
  Schedule s({.profile = Profile::kSteady, .count = 100, .rate = 50, .duration_s = 3});
  EXPECT_DOUBLE_EQ(s.end_s(), 99.0 / 50 + 3);
  EXPECT_TRUE(s.end_follows_last_start());
  EXPECT_EQ(s.peak_live(), 100u);
  auto c = all_of(s);
  ASSERT_EQ(c.size(), 100u);
  EXPECT_DOUBLE_EQ(c[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(c[99].start_s, 99.0 / 50);
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c[i].index, i);
    EXPECT_EQ(c[i].stop_s, kUntilEnd);
  }
  EXPECT_EQ(s.next_start(), kUntilEnd);
  EXPECT_EQ(s.given(), 100u);
}

TEST(Schedule, SteadyWithoutRateStartsEveryoneAtOnce) {
  Schedule s({.profile = Profile::kSteady, .count = 10});
  for (const auto& c : all_of(s)) EXPECT_EQ(c.start_s, 0.0);
  EXPECT_EQ(s.end_s(), 0.0);
}

TEST(Schedule, BurstStartsGroupsAtIntervals) {
  ProfileOptions o{.profile = Profile::kBurst,
                   .count = 25,
                   .duration_s = 2,
                   .burst_size = 10,
                   .burst_interval_s = 0.5};
  std::map<double, int> groups;
  for (const auto& c : all_of(o)) ++groups[c.start_s];
  EXPECT_EQ(groups, (std::map<double, int>{{0.0, 10}, {0.5, 10}, {1.0, 5}}));
  EXPECT_DOUBLE_EQ(Schedule(o).end_s(), 3.0);
}

TEST(Schedule, RampGrowsTheLiveCountLinearly) {
  Schedule s({.profile = Profile::kRamp, .count = 1000, .duration_s = 10});
  EXPECT_FALSE(s.end_follows_last_start());
  EXPECT_EQ(s.peak_live(), 1000u);
  auto children = all_of(s);
  // At any time t the number started is about count * t / duration.
  for (double t : {1.0, 2.5, 5.0, 9.0}) {
    auto started = std::count_if(children.begin(), children.end(),
                                 [t](const auto& c) { return c.start_s <= t; });
    EXPECT_NEAR(static_cast<double>(started), 1000 * t / 10, 1.0) << "t=" << t;
  }
}

TEST(Schedule, SpikeJumpsToTheCountAndBackToTheBase) {
  ProfileOptions o{.profile = Profile::kSpike, .count = 100, .duration_s = 3, .spike_base = 10};
  auto children = all_of(o);
  auto live_at = [&](double t) {
    return std::count_if(children.begin(), children.end(), [t](const auto& c) {
      return c.start_s <= t && (c.stop_s == kUntilEnd || t < c.stop_s);
    });
  };
  EXPECT_EQ(live_at(0.5), 10);
  EXPECT_EQ(live_at(1.5), 100);
  EXPECT_EQ(live_at(2.5), 10);
  EXPECT_EQ(Schedule(o).peak_live(), 100u);
  EXPECT_DOUBLE_EQ(Schedule(o).end_s(), 3.0);
}

TEST(Schedule, ChurnKeepsTheCountLiveWithLivesInTheirRange) {
  ProfileOptions o{.profile = Profile::kChurn,
                   .count = 50,
                   .duration_s = 10,
                   .churn_life_min_s = 0.2,
                   .churn_life_max_s = 0.4,
                   .seed = 7};
  Schedule s(o);
  EXPECT_EQ(s.peak_live(), 50u);
  EXPECT_NEAR(s.expected_starts(), 50 * 10 / 0.3, 1);
  auto children = all_of(s);
  EXPECT_EQ(peak_live(children), 50u);  // a child is replaced the instant it stops
  // 50 slots, each of 10 s in lives of 0.3 s on average: about 1,667 starts.
  EXPECT_NEAR(static_cast<double>(children.size()), 50 * 10 / 0.3, 100);
  EXPECT_TRUE(std::is_sorted(children.begin(), children.end(),
                             [](const auto& a, const auto& b) { return a.start_s < b.start_s; }));
  for (std::size_t i = 0; i < children.size(); ++i) {
    const auto& c = children[i];
    EXPECT_EQ(c.index, i);
    if (c.stop_s == kUntilEnd) continue;  // the last life of a slot runs to the end
    EXPECT_GE(c.stop_s - c.start_s, 0.2 - 1e-9);
    EXPECT_LE(c.stop_s - c.start_s, 0.4 + 1e-9);
  }
  // The same seed gives the same lives; another seed others.
  auto again = all_of(o);
  ASSERT_EQ(again.size(), children.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].start_s, children[i].start_s);
    EXPECT_EQ(again[i].stop_s, children[i].stop_s);
  }
  o.seed = 8;
  EXPECT_NE(all_of(o).back().start_s, children.back().start_s);
}

TEST(Schedule, ChurnAtARateStartsItsSlotsInTurn) {
  Schedule s({.profile = Profile::kChurn,
              .count = 10,
              .rate = 100,
              .duration_s = 0.05,
              .churn_life_min_s = 1,
              .churn_life_max_s = 1});
  EXPECT_EQ(s.peak_live(), 5u) << "slots 5..9 would start at or after the end";
  auto children = all_of(s);
  ASSERT_EQ(children.size(), 5u);
  EXPECT_DOUBLE_EQ(children[4].start_s, 0.04);
}

// Today's code computed every life up front: this schedule was 16 GB and a
// std::bad_alloc after 89 s. Drawn as they are asked for, the lives of a
// billion-second churn cost what its live count does, and a million of them
// come at once.
TEST(Schedule, ChurnOfABillionSecondsIsDrawnAsItIsAskedFor) {
  Schedule s({.profile = Profile::kChurn,
              .count = 100,
              .duration_s = 1e9,
              .churn_life_min_s = 0.5,
              .churn_life_max_s = 1.5});
  EXPECT_EQ(s.peak_live(), 100u);
  EXPECT_DOUBLE_EQ(s.end_s(), 1e9);
  double last = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    auto c = s.next();
    ASSERT_TRUE(c);
    ASSERT_GE(c->start_s, last);
    last = c->start_s;
  }
  // 100 slots at a mean life of 1 s: a million starts take about 10,000 s.
  EXPECT_NEAR(last, 10'000, 200);
}

TEST(Schedule, BadOptionsAreRefused) {
  EXPECT_THROW(Schedule({.rate = -1}), std::invalid_argument);
  EXPECT_THROW(Schedule({.duration_s = -1}), std::invalid_argument);
  EXPECT_THROW(Schedule({.duration_s = kUntilEnd}), std::invalid_argument);
  EXPECT_THROW(Schedule({.profile = Profile::kChurn,
                         .duration_s = 1,
                         .churn_life_min_s = 0.5,
                         .churn_life_max_s = 0.1}),
               std::invalid_argument);
  EXPECT_THROW(Schedule({.profile = Profile::kChurn, .duration_s = 1, .churn_life_min_s = 0}),
               std::invalid_argument);
}

TEST(Schedule, PeakLiveCountsAStopBeforeAStartAtTheSameInstant) {
  std::vector<ScheduledChild> c{{0, 0, 1}, {1, 1, 2}, {2, 2, kUntilEnd}};
  EXPECT_EQ(peak_live(c), 1u);
  c.push_back({3, 0.5, 1.5});
  EXPECT_EQ(peak_live(c), 2u);
}

TEST(Schedule, ProfileNamesRoundTrip) {
  for (Profile p :
       {Profile::kSteady, Profile::kBurst, Profile::kRamp, Profile::kSpike, Profile::kChurn})
    EXPECT_EQ(parse_profile(to_string(p)), p);
  EXPECT_THROW(parse_profile("flat"), std::invalid_argument);
}

}  // namespace
}  // namespace loadgen
