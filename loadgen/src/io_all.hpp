#pragma once
// Moves all `n` bytes through `io` (a read, write, send or recv of the rest),
// again after a signal interrupts it (EINTR) or it moves only part. False on
// an error or end of file: the other side is gone.

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace loadgen {

template <typename Io>
bool io_all(void* data, std::size_t n, Io io) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = io(p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// The same over a plain fd (a pipe, or a socket read as a stream).
inline bool write_all(int fd, const void* data, std::size_t n) {
  return io_all(const_cast<void*>(data), n,
                [fd](char* p, std::size_t k) { return ::write(fd, p, k); });
}

inline bool read_all(int fd, void* data, std::size_t n) {
  return io_all(data, n, [fd](char* p, std::size_t k) { return ::read(fd, p, k); });
}

}  // namespace loadgen
