#pragma once
// PROCMOND_DELIBERATE_SLOWDOWN_NS: busy work the collector adds per process,
// so that the perf suite can prove it catches a slower collector. Never set
// it in production.

#include <chrono>

#include "deliberate_knob.hpp"

namespace procmond {

inline constexpr char kDeliberateSlowdownVar[] = "PROCMOND_DELIBERATE_SLOWDOWN_NS";

// The variable's value (nullptr: unset) as a duration. Unset, "" and "0" are
// none; anything but digits, or too many of them, throws BadDeliberateKnob
// naming the variable and the value.
std::chrono::nanoseconds deliberate_slowdown_ns(const char* value);

// Spins on steady_clock until `ns` have passed: never less, and the compiler
// cannot drop it (each reading of the clock is a call it must make).
void spin_for(std::chrono::nanoseconds ns);

}  // namespace procmond
