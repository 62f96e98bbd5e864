#pragma once
// /proc/PID/task/TID/children: the pids of one thread's children, each
// followed by a space ("123 456 ").

#include <sys/types.h>

#include <string_view>
#include <vector>

namespace procfs {

// Appends each pid to `out`. False (and `out` as it was) when the text holds
// anything but pids and single spaces, or a pid out of range.
bool parse_children(std::string_view text, std::vector<pid_t>& out);

}  // namespace procfs
