#pragma once
// One process event from the kernel's netlink proc connector, as the daemon
// uses it: threads already filtered out, pids in the initial pid namespace.

#include <sys/types.h>

#include <cstdint>

namespace procmond {

struct ConnectorEvent {
  enum class Kind : std::uint8_t { kFork, kExec, kExit };
  Kind kind = Kind::kFork;
  pid_t pid = 0;
  pid_t ppid = 0;                // kFork: the parent's tgid (the real parent, as getppid)
  std::int32_t exit_status = 0;  // kExit: as wait(2) reports it (WIFEXITED, WTERMSIG...)
  std::uint64_t mono_ns = 0;     // the kernel's timestamp, CLOCK_MONOTONIC
};

const char* to_string(ConnectorEvent::Kind kind);

// CLOCK_MONOTONIC now, in ns: the clock of mono_ns, to measure how late an
// event arrived.
std::uint64_t monotonic_now_ns();

}  // namespace procmond
