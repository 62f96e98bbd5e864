#pragma once
// One-off reads of one process's files by path, for tools and tests that
// look once: the collectors and samplers hold fds instead (read.hpp).

#include <sys/types.h>

#include <optional>

#include "procfs/stat.hpp"
#include "procfs/status.hpp"

namespace procfs {

// pid 0 means this process ("self"). nullopt when the file cannot be read
// (errno says why) or does not parse.
std::optional<StatFields> read_stat(pid_t pid);
std::optional<StatusFields> read_status(pid_t pid);

}  // namespace procfs
