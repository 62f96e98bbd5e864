#pragma once
// What the collector knows of one process, split by how often it is read:
// ProcessIdentity once per process lifetime, ProcessRecord every cycle.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "procfs/stat.hpp"

namespace procmond {

// Fields that change only on exec, read on first sight and cached by (pid,
// start_time), read again on an exec (a new exec signature or comm). A field
// the caller may not read stays empty.
struct ProcessIdentity {
  std::uint64_t start_time = 0;  // clock ticks since boot (stat field 22)
  // exec_signature() of the stat this identity was read with: another value
  // means an exec. 0 when stat hides the addresses it hashes (no ptrace right).
  std::uint64_t exec_signature = 0;
  // A new value each time the collector reads the identity again (first
  // sight, exec, recheck of an empty cmdline): the differ compares the
  // strings only when it moved.
  std::uint64_t generation = 0;
  uid_t uid = static_cast<uid_t>(-1);  // real uid from status; -1 when unreadable
  std::vector<std::string> cmdline;    // empty for kernel threads and zombies
  bool cmdline_truncated = false;      // longer than the collector's cap; the rest not read
  std::string exe;                     // empty when unreadable or gone
};

// Every cycle's fields come from /proc/PID/stat, parsed by procfs.
using procfs::Comm;
using procfs::StatFields;

struct ProcessRecord {
  StatFields stat;
  std::uint64_t rss_bytes = 0;
  // Owned by the collector's cache; valid until the next collect().
  const ProcessIdentity* identity = nullptr;
};

// Counters of one cycle, for tests, benchmarks and the daemon's own metrics.
struct CycleStats {
  std::uint64_t cycle = 0;
  std::uint32_t listed = 0;        // numeric entries seen in /proc
  std::uint32_t vanished = 0;      // listed, but gone before their stat was read
  std::uint32_t read_errors = 0;   // stat not readable for another reason (EMFILE...)
  std::uint32_t first_sight = 0;   // identities read this cycle (new pid, reused pid, exec)
  std::uint32_t held_fds = 0;      // stat fds kept open after this cycle
  std::uint32_t parse_errors = 0;  // stat, or status on first sight, read but malformed
  // cmdline or status not readable on first sight for a reason other than an
  // exit (the process is kept, its cmdline empty or its uid unknown)
  std::uint32_t identity_errors = 0;
};

struct Snapshot {
  std::vector<ProcessRecord> processes;
  CycleStats stats;
};

}  // namespace procmond
