#include "wal/file_io.hpp"

#include <unistd.h>

#include <cerrno>

namespace procmond::wal {

int read_to_end(int fd, std::uint64_t offset, std::string& out) {
  out.clear();
  constexpr std::size_t kChunk = 1 << 20;
  for (;;) {
    const std::size_t have = out.size();
    out.resize(have + kChunk);
    const ssize_t n = ::pread(fd, out.data() + have, kChunk, static_cast<off_t>(offset + have));
    if (n < 0 && errno == EINTR) {
      out.resize(have);
      continue;
    }
    if (n <= 0) {
      out.resize(have);
      return n < 0 ? errno : 0;
    }
    out.resize(have + static_cast<std::size_t>(n));
  }
}

std::system_error wal_error(int errno_value, const std::string& path, const char* what) {
  return std::system_error(errno_value, std::generic_category(), "WAL " + path + ": " + what);
}

}  // namespace procmond::wal
