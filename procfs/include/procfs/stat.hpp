#pragma once
// /proc/PID/stat: the one line read every cycle. The comm inside it is raw
// (the kernel escapes nothing there), so a process may put spaces,
// parentheses and newlines in it: the comm runs from the first " (" to the
// LAST ')', since only numbers follow it.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace procfs {

// A comm fits in 16 bytes for user tasks; kernel threads may report longer
// names (up to 64), so the buffer allows that without touching the heap.
struct Comm {
  std::array<char, 64> chars{};
  std::uint8_t size = 0;
  std::string_view view() const { return {chars.data(), size}; }
  void assign(std::string_view s) {
    size = static_cast<std::uint8_t>(s.size() < chars.size() ? s.size() : chars.size());
    s.copy(chars.data(), size);
  }
  bool operator==(const Comm& other) const { return view() == other.view(); }
};

// The fields of stat that anyone here reads, numbered as in proc(5).
struct StatFields {
  pid_t pid = 0;  // 1
  Comm comm;      // 2
  char state = '?';
  pid_t ppid = 0;                 // 4
  pid_t pgrp = 0;                 // 5
  pid_t session = 0;              // 6
  std::uint32_t flags = 0;        // 9
  std::uint64_t utime = 0;        // 14, clock ticks
  std::uint64_t stime = 0;        // 15, clock ticks
  std::uint64_t cutime = 0;       // 16: reaped children's CPU (their own cutime included)
  std::uint64_t cstime = 0;       // 17
  std::uint32_t threads = 0;      // 20
  std::uint64_t start_time = 0;   // 22, clock ticks since boot
  std::uint64_t vsize_bytes = 0;  // 23
  // 24: the kernel's per-CPU counter read without summing (Linux 6.2+): it
  // may be off by up to max(32, 2*cpus)*cpus pages, where statm sums exactly.
  std::uint64_t rss_pages = 0;
  // Where the program's code, stack, argv and environment lie. The kernel
  // shows them only to a reader that may ptrace the process (0 otherwise, and
  // for kernel threads); with ASLR the stack and argv move on every exec. 0
  // too when the line ends before them (older kernels).
  std::uint64_t start_code = 0;   // 26
  std::uint64_t end_code = 0;     // 27
  std::uint64_t start_stack = 0;  // 28
  std::uint64_t arg_start = 0;    // 48
  std::uint64_t arg_end = 0;      // 49
  std::uint64_t env_start = 0;    // 50
  std::uint64_t env_end = 0;      // 51

  bool kernel_thread() const { return (flags & 0x00200000u) != 0; }  // PF_KTHREAD
};

// Parses fields 1 to 51 of a stat line; the rest of the line is not read.
// Fields 1-24 must be there; the line may end anywhere after field 24 (older
// kernels print fewer), the fields it lacks read as 0. Returns false on a
// malformed line (a field 1-24 missing, a field not a number, out of range);
// `out` is then unspecified.
bool parse_stat(std::string_view text, StatFields& out);

}  // namespace procfs
