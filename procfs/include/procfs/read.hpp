#pragma once
// Reading /proc files at the kernel's floor: relative to a held directory fd
// (openat, no walk from /), in one read() into the caller's reused buffer,
// or again and again through a held fd with pread (no open at all).

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "procmon/unique_fd.hpp"

namespace procfs {

// A buffer that holds any whole stat, statm, status or smaps_rollup. status is
// about 1.5 KiB here, but its Cpus_allowed and Mems_allowed lines grow with
// the machine (past 4 KiB with 1,024 CPUs), and a file that fills the buffer
// is refused rather than cut.
constexpr std::size_t kSmallFileBytes = 16 * 1024;
using SmallFileBuffer = std::array<char, kSmallFileBytes>;

// "PID/file" (or "PID/task/TID/children"), built on the stack for openat
// relative to the proc root. Paths past its size are cut, never overflowed.
class PidPath {
 public:
  PidPath(std::string_view pid_name, std::string_view file);
  PidPath(pid_t pid, std::string_view file);
  PidPath(pid_t pid, pid_t tid, std::string_view file);  // PID/task/TID/file
  const char* c_str() const { return chars_.data(); }

 private:
  void append(std::string_view s);
  std::array<char, 64> chars_{};
  std::size_t size_ = 0;
};

// openat(dir_fd, path, O_RDONLY | O_CLOEXEC | extra); invalid with errno set.
procmon::UniqueFd open_at(int dir_fd, const char* path, int extra_flags = 0);

// Opens /proc (or a test's fake root) as a directory; throws std::system_error.
procmon::UniqueFd open_proc_root(const std::string& path = "/proc");

// One read() of a whole small file (stat, status, statm, smaps_rollup): a
// procfs file shorter than the buffer comes whole in one call. nullopt with
// errno set when it cannot be read (ENOENT or ESRCH: the process is gone);
// a file that fills the buffer may have been cut, so it is refused (EFBIG).
std::optional<std::string_view> read_at(int dir_fd, const char* path, std::span<char> buf);

// The same through a held fd: pread at offset 0 gives the file's current text.
std::optional<std::string_view> pread_whole(int fd, std::span<char> buf);

// Reads at most `cap` bytes of a file of any length (cmdline) into `out`,
// which is reused (its capacity stays). Returns whether the file had more
// than `cap` bytes (the text is then cut at `cap`), or nullopt with errno.
std::optional<bool> read_capped_at(int dir_fd, const char* path, std::size_t cap, std::string& out);

// A whole file by path, of any length (/proc/meminfo, /proc/sys values), for
// what is read once; nullopt with errno when it cannot be read.
std::optional<std::string> read_path(const char* path);

}  // namespace procfs
