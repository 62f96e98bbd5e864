#pragma once
// What the deliberate knobs share (PROCMOND_DELIBERATE_SLOWDOWN_NS,
// PROCMOND_DELIBERATE_LEAK_BYTES): the error of a bad value, and the reading
// of a whole number from one.

#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace procmond {

// A knob's value that is not what it must be. Its own type so that the
// commands tell it (a bad argument, given through the environment: exit 2)
// from their other failures.
class BadDeliberateKnob : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The error `VAR="TEXT": WHY (unset, empty or 0 for none)`.
BadDeliberateKnob bad_knob(std::string_view var, std::string_view text, std::string_view why);

// The whole number `digits` spells (a part of `var`'s value `text`): digits
// only, no sign. Anything else throws bad_knob(..., not_a_number); a number
// past `max` throws bad_knob(..., too_large).
std::uint64_t knob_number(std::string_view var, std::string_view text, std::string_view digits,
                          std::uint64_t max, std::string_view not_a_number,
                          std::string_view too_large);

}  // namespace procmond
