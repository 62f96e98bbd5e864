#include "summary.hpp"

#include <gtest/gtest.h>

namespace loadgen {
namespace {

TEST(Percentiles, NearestRank) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
  Percentiles p = percentiles(v);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p95, 95);
  EXPECT_EQ(p.p99, 99);
  std::vector<double> one{7};
  p = percentiles(one);
  EXPECT_EQ(p.p50, 7);
  EXPECT_EQ(p.p99, 7);
  std::vector<double> none;
  EXPECT_EQ(percentiles(none).p99, 0);
}

TEST(SummaryJson, HasTheFieldsTheIssueNames) {
  Summary s;
  s.asked = 3;
  s.spawned = 2;
  s.failed = 1;
  s.failure_reasons["Resource temporarily unavailable"] = 1;
  s.spawn_latency_us = {10, 20, 30};
  nlohmann::json j = to_json(s);
  for (const char* key : {"asked", "spawned", "failed", "spawn_seconds", "spawn_latency_us",
                          "rate_per_s", "peak_live", "teardown_seconds", "peak_rss_bytes"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["failed"]["count"], 1);
  EXPECT_EQ(j["failed"]["reasons"]["Resource temporarily unavailable"], 1);
  EXPECT_EQ(j["spawn_latency_us"]["p95"], 20);
}

}  // namespace
}  // namespace loadgen
