#include "deliberate_slowdown.hpp"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace procmond {

std::chrono::nanoseconds deliberate_slowdown_ns(const char* value) {
  if (value == nullptr) return {};
  const std::string_view text(value);
  if (text.empty()) return {};
  auto bad = [&](const char* why) {
    return BadDeliberateSlowdown(std::string(kDeliberateSlowdownVar) + "=\"" + std::string(text) +
                                 "\": " + why + " (unset, empty or 0 for none)");
  };
  // from_chars alone would take a leading '-' and stop at the first non-digit.
  if (text.find_first_not_of("0123456789") != std::string_view::npos)
    throw bad("not a whole number of nanoseconds");
  std::int64_t ns = 0;
  if (std::from_chars(text.data(), text.data() + text.size(), ns).ec != std::errc{})
    throw bad("too large");
  return std::chrono::nanoseconds(ns);
}

void spin_for(std::chrono::nanoseconds ns) {
  // Elapsed time, not a deadline: now() + a huge ns would overflow.
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < ns) {
  }
}

}  // namespace procmond
