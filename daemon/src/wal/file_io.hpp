#pragma once
// The few raw-fd helpers the WAL's writer and readers share.

#include <cstdint>
#include <string>
#include <system_error>

namespace procmond::wal {

// Reads from `offset` to the end of the file into `out` (replacing it).
// Returns 0 or an errno.
int read_to_end(int fd, std::uint64_t offset, std::string& out);

// std::system_error(errno_value) whose what() names `path` and what failed.
std::system_error wal_error(int errno_value, const std::string& path, const char* what);

}  // namespace procmond::wal
