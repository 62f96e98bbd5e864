#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace loadgen {

std::size_t Histogram::bucket_of(std::uint64_t us) {
  constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
  if (us < kSub) return us;                                  // octave 0: one bucket per microsecond
  const int top = static_cast<int>(std::bit_width(us)) - 1;  // >= kSubBits
  const int shift = top - kSubBits;
  // Octave shift + 1, sub-bucket from the kSubBits bits below the top one.
  return static_cast<std::size_t>(shift + 1) * kSub + ((us >> shift) & (kSub - 1));
}

double Histogram::upper_edge(std::size_t bucket) {
  constexpr std::size_t kSub = std::size_t{1} << kSubBits;
  if (bucket < kSub) return static_cast<double>(bucket);
  const int shift = static_cast<int>(bucket / kSub) - 1;
  const double low = std::ldexp(static_cast<double>(kSub + bucket % kSub), shift);
  return low + std::ldexp(1.0, shift) - 1;
}

void Histogram::record(double us) {
  us = std::max(0.0, us);
  const auto whole = us >= 1.8e19 ? UINT64_MAX : static_cast<std::uint64_t>(us);
  ++counts_[std::min(bucket_of(whole), kBuckets - 1)];
  ++count_;
  max_ = std::max(max_, us);
}

double Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const auto rank = std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_))), 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBuckets; ++b)
    if ((seen += counts_[b]) >= rank)  // the last bucket is open-ended: its values are the max
      return b + 1 == kBuckets ? max_ : std::min(upper_edge(b), max_);
  return max_;
}

}  // namespace loadgen
