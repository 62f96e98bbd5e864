#pragma once
// Percentiles of durations in fixed memory, however many are recorded: a run
// held for days records every start, stop and spawn call in a few kilobytes.
// Log-linear buckets (as HdrHistogram): exact below 64 µs, then 64 buckets per
// power of two, so a percentile is within 1/64 (1.6 %) of the value recorded.

#include <array>
#include <cstdint>

namespace loadgen {

class Histogram {
 public:
  // Records a duration in microseconds; below 0 counts as 0 (early is on time).
  void record(double us);
  std::uint64_t count() const { return count_; }
  double max() const { return max_; }
  // Nearest rank: the smallest recorded value's bucket holding the p-th
  // fraction of the values, reported as that bucket's upper edge (never above
  // max()). 0 when nothing was recorded.
  double percentile(double p) const;

 private:
  static constexpr int kSubBits = 6;                  // 64 sub-buckets per power of two
  static constexpr int kOctaves = 64 - kSubBits + 1;  // up to 2^64 µs
  static constexpr std::size_t kBuckets = (std::size_t{1} << kSubBits) * kOctaves;
  static std::size_t bucket_of(std::uint64_t us);
  static double upper_edge(std::size_t bucket);

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  double max_ = 0;
};

}  // namespace loadgen
