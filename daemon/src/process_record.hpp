#pragma once
// What the collector knows of one process, split by how often it is read:
// ProcessIdentity once per process lifetime, ProcessRecord every cycle.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace procmond {

// Fields that change only on exec, read on first sight and cached by (pid,
// start_time), read again when the comm changes. A field the caller may not
// read stays empty.
struct ProcessIdentity {
  std::uint64_t start_time = 0;        // clock ticks since boot (stat field 22)
  uid_t uid = static_cast<uid_t>(-1);  // real uid from status; -1 when unreadable
  std::vector<std::string> cmdline;    // empty for kernel threads and zombies
  std::string exe;                     // empty when unreadable or gone
};

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

// Fields read every cycle (all from /proc/PID/stat).
struct StatFields {
  pid_t pid = 0;
  Comm comm;
  char state = '?';
  pid_t ppid = 0;
  std::uint32_t flags = 0;
  std::uint64_t utime = 0;  // clock ticks
  std::uint64_t stime = 0;  // clock ticks
  // Children's CPU, added when the process reaps them (their own cutime included).
  std::uint64_t cutime = 0;  // clock ticks
  std::uint64_t cstime = 0;  // clock ticks
  std::uint32_t threads = 0;
  std::uint64_t start_time = 0;  // clock ticks since boot
  std::uint64_t vsize_bytes = 0;
  // The kernel's per-CPU counter read without summing (Linux 6.2+): it may be
  // off by up to max(32, 2*cpus)*cpus pages, where statm sums exactly. Exact
  // RSS would cost a second file per process per cycle.
  std::uint64_t rss_pages = 0;

  bool kernel_thread() const { return (flags & 0x00200000u) != 0; }  // PF_KTHREAD
};

struct ProcessRecord {
  StatFields stat;
  std::uint64_t rss_bytes = 0;
  // Owned by the collector's cache; valid until the next collect().
  const ProcessIdentity* identity = nullptr;
};

// Counters of one cycle, for tests, benchmarks and the daemon's own metrics.
struct CycleStats {
  std::uint64_t cycle = 0;
  std::uint32_t listed = 0;       // numeric entries seen in /proc
  std::uint32_t vanished = 0;     // listed, but gone before their stat was read
  std::uint32_t read_errors = 0;  // stat not readable for another reason (EMFILE...)
  std::uint32_t first_sight = 0;  // identities read this cycle (new pid, reused pid, exec)
  std::uint32_t held_fds = 0;     // stat fds kept open after this cycle
  std::uint32_t parse_errors = 0;
};

struct Snapshot {
  std::vector<ProcessRecord> processes;
  CycleStats stats;
};

}  // namespace procmond
