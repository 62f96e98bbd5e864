#pragma once
// /proc/PID/cmdline: the arguments, NUL-separated and usually NUL-terminated.
// Any length a process likes (megabytes), so it is read with a cap (read.hpp).

#include <string>
#include <string_view>
#include <vector>

namespace procfs {

// Splits on NUL. A process that rewrote its title without NULs yields one
// argument; an empty text (kernel thread, zombie) none.
std::vector<std::string> parse_cmdline(std::string_view text);

}  // namespace procfs
