#pragma once
// The platform seam (as htop's ProcessTable): one interface, one implementation
// per OS behind make_collector(). Only Linux exists today.

#include <cstddef>
#include <memory>
#include <string>

#include "process_record.hpp"

namespace procmond {

enum class StatMode {
  kPlain,  // open, read, close /proc/PID/stat every cycle
  kHeld,   // keep each stat fd open and pread it; falls back to kPlain past the fd budget
};

struct CollectorOptions {
  std::string proc_root = "/proc";
  StatMode mode = StatMode::kHeld;
  // Most stat fds held at once. 0 = automatic: RLIMIT_NOFILE's soft limit less
  // kFdReserve, left for the daemon's own sockets and files.
  std::size_t max_held_fds = 0;
  static constexpr std::size_t kFdReserve = 256;
  // Most bytes of a cmdline read and kept per process. A process may make its
  // argv megabytes long; uncapped, a few such users would swell the monitor
  // by gigabytes. 4 KiB holds all but the longest command lines (a long Java
  // classpath); a longer one is cut and flagged (ProcessIdentity::cmdline_truncated).
  std::size_t max_cmdline_bytes = kDefaultMaxCmdline;
  static constexpr std::size_t kDefaultMaxCmdline = 4096;
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Reads every process. The snapshot (and each record's identity pointer)
  // stays valid until the next call.
  virtual const Snapshot& collect() = 0;
};

// The most stat fds held mode keeps when max_held_fds is 0: RLIMIT_NOFILE's
// soft limit less kFdReserve (0 when the limit cannot be read).
std::size_t automatic_held_fd_budget();

// Throws std::system_error when the proc root cannot be opened, and
// BadDeliberateKnob (a std::invalid_argument) when
// PROCMOND_DELIBERATE_SLOWDOWN_NS or _LEAK_BYTES is set to anything but a count.
std::unique_ptr<Collector> make_collector(const CollectorOptions& options = {});

const char* to_string(StatMode mode);

}  // namespace procmond
