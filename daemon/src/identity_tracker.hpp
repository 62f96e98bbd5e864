#pragma once
// What both collectors do with a process's stat fields once they have them:
// tell a new process, a reused pid or an exec from what the last cycle saw,
// and only then read its identity (cmdline, uid, exe) from /proc again.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "process_record.hpp"

namespace procmond {

// One process as the collector's cache keeps it between cycles.
struct TrackedProcess {
  ProcessIdentity identity;
  Comm comm;                     // as last seen: a change (or of the exec signature) means an exec
  bool recheck_cmdline = false;  // read the identity once more next cycle
  std::uint64_t seen_cycle = 0;
};

class IdentityTracker {
 public:
  // proc_fd: the proc root (borrowed). buf: the collector's reused buffer,
  // big enough for a whole status file.
  IdentityTracker(int proc_fd, std::size_t max_cmdline, std::span<char> buf)
      : proc_fd_(proc_fd), max_cmdline_(max_cmdline), buf_(buf) {}

  // Marks `tracked` seen in stats.cycle, and reads its identity again when
  // this is a new process, a reused pid (another start time) or an exec (a
  // new exec signature or comm). Counts first_sight and the errors in stats.
  void track(pid_t pid, const StatFields& fields, TrackedProcess& tracked, CycleStats& stats);

 private:
  int proc_fd_;
  std::size_t max_cmdline_;
  std::span<char> buf_;
  std::string scratch_;
  std::uint64_t generation_ = 0;  // of the last identity read
};

}  // namespace procmond
