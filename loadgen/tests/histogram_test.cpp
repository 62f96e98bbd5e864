// Percentiles in fixed memory: exact where small, within 1/64 above.
#include "histogram.hpp"

#include <gtest/gtest.h>

namespace loadgen {
namespace {

TEST(Histogram, EmptyIsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.99), 0);
  EXPECT_EQ(h.max(), 0);
}

TEST(Histogram, SmallValuesAreExactByNearestRank) {
  Histogram h;
  for (int i = 60; i >= 1; --i) h.record(i);  // unsorted on purpose
  EXPECT_EQ(h.count(), 60u);
  EXPECT_EQ(h.percentile(0.50), 30);
  EXPECT_EQ(h.percentile(0.99), 60);
  EXPECT_EQ(h.max(), 60);
}

TEST(Histogram, LargeValuesAreWithinTheBucketWidth) {
  Histogram h;
  for (double v : {1'000.0, 10'000.0, 123'456.0, 9.9e6, 3.6e9}) {
    Histogram one;
    one.record(v);
    one.record(v * 1000);  // the max: the percentile below must not be clamped to it
    const double p = one.percentile(0.5);
    EXPECT_GE(p, v * (1 - 1.0 / 64)) << v;
    EXPECT_LE(p, v * (1 + 1.0 / 64)) << v;
  }
}

TEST(Histogram, NegativeIsOnTimeAndHugeIsKept) {
  Histogram h;
  h.record(-5);
  h.record(1e30);
  EXPECT_EQ(h.percentile(0.5), 0);
  EXPECT_EQ(h.max(), 1e30);
  EXPECT_EQ(h.percentile(1.0), 1e30) << "clamped to the largest bucket, reported as the max";
}

TEST(Histogram, ManyValuesCostNoMemory) {
  Histogram h;
  for (int i = 0; i < 1'000'000; ++i) h.record(i % 1000);
  EXPECT_EQ(h.count(), 1'000'000u);
  EXPECT_NEAR(h.percentile(0.99), 990, 990.0 / 64);
}

}  // namespace
}  // namespace loadgen
