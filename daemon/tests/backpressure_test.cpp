#include "run/backpressure.hpp"

#include <gtest/gtest.h>

namespace procmond {
namespace {

using ms = std::chrono::milliseconds;

TEST(Backpressure, StretchesAboveTheHighMarkAndReturnsBelowTheLow) {
  Backpressure bp(ms(1000), ms(8000), 100, 1000);
  EXPECT_EQ(bp.observe(500), Backpressure::Move::kNone);
  EXPECT_EQ(bp.interval(), ms(1000));
  EXPECT_EQ(bp.observe(1001), Backpressure::Move::kStretched);
  EXPECT_EQ(bp.interval(), ms(2000));
  EXPECT_TRUE(bp.holding());
  // Between the marks nothing moves: no flapping.
  EXPECT_EQ(bp.observe(500), Backpressure::Move::kNone);
  EXPECT_TRUE(bp.stretched());
  EXPECT_TRUE(bp.holding());
  EXPECT_EQ(bp.observe(99), Backpressure::Move::kRestored);
  EXPECT_EQ(bp.interval(), ms(1000));
  EXPECT_FALSE(bp.holding());
  EXPECT_EQ(bp.stretches(), 1u);
  EXPECT_EQ(bp.restores(), 1u);
}

TEST(Backpressure, AStallStretchesWhateverTheDepthAndEndsBelowTheLowMark) {
  Backpressure bp(ms(1000), ms(8000), 100, 1000);
  EXPECT_EQ(bp.observe(10, /*stalled=*/true), Backpressure::Move::kStretched);
  EXPECT_TRUE(bp.holding());
  EXPECT_EQ(bp.observe(10, true), Backpressure::Move::kNone);
  EXPECT_EQ(bp.observe(500, false), Backpressure::Move::kNone);  // reading, but still deep
  EXPECT_EQ(bp.observe(10, false), Backpressure::Move::kRestored);
}

TEST(Backpressure, EachStretchedCycleDoublesUpToTheCeiling) {
  Backpressure bp(ms(1000), ms(5000), 100, 1000);
  bp.observe(2000);
  bp.cycle_started();
  EXPECT_EQ(bp.interval(), ms(4000));
  bp.cycle_started();
  EXPECT_EQ(bp.interval(), ms(5000));
  bp.cycle_started();
  EXPECT_EQ(bp.interval(), ms(5000));
  // A cycle while not stretched changes nothing.
  bp.observe(0);
  bp.cycle_started();
  EXPECT_EQ(bp.interval(), ms(1000));
}

}  // namespace
}  // namespace procmond
