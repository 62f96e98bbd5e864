#include "deliberate_knob.hpp"

#include <charconv>
#include <string>

namespace procmond {

BadDeliberateKnob bad_knob(std::string_view var, std::string_view text, std::string_view why) {
  return BadDeliberateKnob(std::string(var) + "=\"" + std::string(text) +
                           "\": " + std::string(why) + " (unset, empty or 0 for none)");
}

std::uint64_t knob_number(std::string_view var, std::string_view text, std::string_view digits,
                          std::uint64_t max, std::string_view not_a_number,
                          std::string_view too_large) {
  // from_chars alone would take a leading '-' and stop at the first non-digit.
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
    throw bad_knob(var, text, not_a_number);
  std::uint64_t n = 0;
  if (std::from_chars(digits.data(), digits.data() + digits.size(), n).ec != std::errc{} || n > max)
    throw bad_knob(var, text, too_large);
  return n;
}

}  // namespace procmond
