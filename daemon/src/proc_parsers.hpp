#pragma once
// Parsers of /proc file contents. They take the bytes already read and touch
// no file and no heap (but parse_cmdline, which builds the argument list), so
// tests can feed them hostile strings.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process_record.hpp"

namespace procmond {

// Parses /proc/PID/stat. The comm runs from the first '(' to the LAST ')',
// since a comm may itself hold spaces and parentheses, e.g. "a) (b".
// Returns false on a malformed line; `out` is then unspecified.
bool parse_stat(std::string_view text, StatFields& out);

// The real uid from the "Uid:" line of /proc/PID/status.
std::optional<uid_t> parse_status_uid(std::string_view text);

// Splits /proc/PID/cmdline (NUL-separated, usually NUL-terminated). A process
// that rewrote its title without NULs yields one argument.
std::vector<std::string> parse_cmdline(std::string_view text);

}  // namespace procmond
