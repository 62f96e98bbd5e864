#pragma once
// The platform seam (as htop's ProcessTable): one interface, an implementation
// per way of reading the processes behind make_collector(). Linux has two:
// /proc (linux_collector.*) and a BPF task iterator (bpf/bpf_collector.*).

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "process_record.hpp"

namespace procmond {

enum class CollectorKind {
  kAuto,  // BPF where the kernel and our privileges allow it, else /proc (saying why)
  kBpf,   // BPF or nothing: make_collector throws when it cannot load
  kProc,
};

enum class StatMode {
  kPlain,  // open, read, close /proc/PID/stat every cycle
  kHeld,   // keep each stat fd open and pread it; falls back to kPlain past the fd budget
};

struct CollectorOptions {
  CollectorKind kind = CollectorKind::kProc;
  // Where procfs is mounted. The BPF collector reads the kernel's tasks, not
  // this tree: it serves only the real /proc (and reads cmdline, exe and
  // status from it).
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
  // "proc" or "bpf": what status, snapshot --json and the benches report.
  virtual const char* name() const = 0;
  // Pids /proc lists that this collector cannot see, found once when it was
  // made (a platform may hide a process from BPF task iterators). Empty for
  // the /proc collector.
  virtual std::span<const pid_t> hidden() const { return {}; }
};

// The most stat fds held mode keeps when max_held_fds is 0: RLIMIT_NOFILE's
// soft limit less kFdReserve (0 when the limit cannot be read).
std::size_t automatic_held_fd_budget();

// The collector options.kind asks for. Under kAuto, when BPF cannot be used,
// the /proc collector is made and *why_not_bpf says why (else it is
// cleared). Throws std::system_error when the proc root cannot be opened,
// std::runtime_error when kBpf cannot be had (the message says why), and
// BadDeliberateKnob (a std::invalid_argument) when
// PROCMOND_DELIBERATE_SLOWDOWN_NS or _LEAK_BYTES is set to anything but a count.
std::unique_ptr<Collector> make_collector(const CollectorOptions& options = {},
                                          std::string* why_not_bpf = nullptr);

const char* to_string(StatMode mode);
const char* to_string(CollectorKind kind);
// "auto", "bpf", "proc"; nullopt for anything else.
std::optional<CollectorKind> parse_collector_kind(std::string_view text);

}  // namespace procmond
