#pragma once
// PROCMOND_DELIBERATE_LEAK_BYTES: memory the collector leaks every cycle, so
// that profiling/leakcheck.sh can prove it catches a daemon that grows. Never
// set it in production.

#include <cstddef>

#include "deliberate_knob.hpp"

namespace procmond {

inline constexpr char kDeliberateLeakVar[] = "PROCMOND_DELIBERATE_LEAK_BYTES";

// The most one cycle may leak: a typo (a G for a K) should not take the
// machine's memory at the first cycle.
inline constexpr std::size_t kMaxDeliberateLeakBytes = std::size_t{1} << 30;

// The variable's value (nullptr: unset) in bytes. Unset, "" and "0" are none;
// digits, optionally followed by K, M or G (units of 1024: 256K is 262144).
// Anything else, or more than kMaxDeliberateLeakBytes, throws
// BadDeliberateKnob naming the variable and the value.
std::size_t deliberate_leak_bytes(const char* value);

// Allocates `bytes` with malloc, writes every byte (so that its pages count in
// RSS, not only in address space) and drops the pointer: never freed, and
// nothing points to it, so heaptrack and valgrind call it a leak. Not inlined,
// so that their stacks name it.
[[gnu::noinline]] void leak(std::size_t bytes);

}  // namespace procmond
