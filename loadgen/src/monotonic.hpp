#pragma once
// Seconds on the monotonic clock, as a double: the unit of every schedule.

#include <time.h>

namespace loadgen {

inline double monotonic_seconds() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace loadgen
