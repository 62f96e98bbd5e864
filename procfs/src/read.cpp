#include "procfs/read.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace procfs {

PidPath::PidPath(std::string_view pid_name, std::string_view file) {
  append(pid_name);
  append("/");
  append(file);
}

PidPath::PidPath(pid_t pid, std::string_view file) {
  std::array<char, 16> digits;
  auto end = std::to_chars(digits.begin(), digits.end(), pid).ptr;
  append({digits.data(), static_cast<std::size_t>(end - digits.data())});
  append("/");
  append(file);
}

PidPath::PidPath(pid_t pid, pid_t tid, std::string_view file) : PidPath(pid, "task/") {
  std::array<char, 16> digits;
  auto end = std::to_chars(digits.begin(), digits.end(), tid).ptr;
  append({digits.data(), static_cast<std::size_t>(end - digits.data())});
  append("/");
  append(file);
}

void PidPath::append(std::string_view s) {
  size_ += s.copy(chars_.data() + size_, chars_.size() - 1 - size_);
  chars_[size_] = '\0';
}

procmon::UniqueFd open_at(int dir_fd, const char* path, int extra_flags) {
  return procmon::UniqueFd(::openat(dir_fd, path, O_RDONLY | O_CLOEXEC | extra_flags));
}

procmon::UniqueFd open_proc_root(const std::string& path) {
  procmon::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw std::system_error(errno, std::generic_category(), "open " + path);
  return fd;
}

namespace {

std::optional<std::string_view> whole(ssize_t n, std::span<char> buf) {
  if (n < 0) return std::nullopt;
  if (static_cast<std::size_t>(n) >= buf.size()) {
    errno = EFBIG;
    return std::nullopt;
  }
  return std::string_view(buf.data(), static_cast<std::size_t>(n));
}

}  // namespace

std::optional<std::string_view> read_at(int dir_fd, const char* path, std::span<char> buf) {
  procmon::UniqueFd fd = open_at(dir_fd, path);
  if (!fd) return std::nullopt;
  return whole(::read(fd.get(), buf.data(), buf.size()), buf);
}

std::optional<std::string_view> pread_whole(int fd, std::span<char> buf) {
  return whole(::pread(fd, buf.data(), buf.size(), 0), buf);
}

std::optional<bool> read_capped_at(int dir_fd, const char* path, std::size_t cap,
                                   std::string& out) {
  out.clear();
  procmon::UniqueFd fd = open_at(dir_fd, path);
  if (!fd) return std::nullopt;
  // One byte past the cap tells a file of exactly `cap` bytes from a longer
  // one. The buffer grows with what is read, not to the cap at once: most
  // command lines are short and a large cap would be zeroed for each.
  const std::size_t want = cap + 1;
  std::size_t used = 0;
  out.resize(std::min(want, std::max<std::size_t>(out.capacity(), 4096)));
  while (true) {
    const ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0) {
      out.clear();
      return std::nullopt;
    }
    used += static_cast<std::size_t>(n);
    if (n == 0 || used == want) break;
    if (used == out.size()) out.resize(std::min(want, out.size() * 2));
  }
  const bool truncated = used > cap;
  out.resize(truncated ? cap : used);
  return truncated;
}

std::optional<std::string> read_path(const char* path) {
  procmon::UniqueFd fd = open_at(AT_FDCWD, path);
  if (!fd) return std::nullopt;
  std::string out;
  std::array<char, 4096> chunk;
  ssize_t n;
  while ((n = ::read(fd.get(), chunk.data(), chunk.size())) > 0)
    out.append(chunk.data(), static_cast<std::size_t>(n));
  if (n < 0) return std::nullopt;
  return out;
}

}  // namespace procfs
