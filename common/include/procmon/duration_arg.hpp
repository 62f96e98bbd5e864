#pragma once
// Durations as a user types them: 500ms, 2s, 1.5m, 1h, or a bare number of
// seconds. CLI11's own unit transformer does the parsing; a bad value gets one
// line naming the forms taken, not CLI11's range dump.

#include <CLI/CLI.hpp>

#include <cmath>
#include <map>
#include <string>

namespace procmon {

inline constexpr const char* kDurationForms =
    "a duration: seconds (2, 0.5, 1e3) or a number with a unit: ms, s, m, h (500ms, 2s, 1m)";

// Positive (or, with `allow_zero`, non-negative) finite seconds.
inline CLI::Validator duration_arg(bool allow_zero = true) {
  const CLI::AsNumberWithUnit units(
      std::map<std::string, double>{{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}},
      CLI::AsNumberWithUnit::CASE_SENSITIVE, "UNIT");
  return CLI::Validator(
      [units, allow_zero](std::string& input) -> std::string {
        const std::string typed = input;
        try {
          if (!units(input).empty()) return "'" + typed + "' is not " + kDurationForms;
        } catch (const CLI::ValidationError&) {
          return "'" + typed + "' is not " + kDurationForms;
        }
        double seconds = 0;
        if (!CLI::detail::lexical_cast(input, seconds) || !std::isfinite(seconds) || seconds < 0 ||
            (!allow_zero && seconds == 0))
          return "'" + typed + "' is not " + kDurationForms + (allow_zero ? ", >= 0" : ", > 0");
        return {};
      },
      "DURATION");
}

}  // namespace procmon
