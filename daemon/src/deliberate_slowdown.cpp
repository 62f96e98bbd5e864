#include "deliberate_slowdown.hpp"

#include <cstdint>
#include <string_view>

namespace procmond {

std::chrono::nanoseconds deliberate_slowdown_ns(const char* value) {
  if (value == nullptr) return {};
  const std::string_view text(value);
  if (text.empty()) return {};
  const auto ns = knob_number(kDeliberateSlowdownVar, text, text, INT64_MAX,
                              "not a whole number of nanoseconds", "too large");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

void spin_for(std::chrono::nanoseconds ns) {
  // Elapsed time, not a deadline: now() + a huge ns would overflow.
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < ns) {
  }
}

}  // namespace procmond
