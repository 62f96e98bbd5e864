#pragma once
// One event of the daemon's stream: what the differ (or the netlink connector)
// saw happen to one process. Encoded once (event_codec.hpp) and those bytes are
// both the WAL record's payload and the wire frame's body.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace procmond {

enum class EventKind : std::uint8_t {
  kSnapshot = 0,   // the baseline: what was already running at start (pid 0)
  kStarted = 1,    // a process appeared (or a pid was reused: exited, then started)
  kExited = 2,     // a process is gone
  kChanged = 3,    // exec and/or reparent: see Event::changes
  kSynthetic = 4,  // made by --synthetic-events, for benchmarks of the pipeline
};

// Event::changes of a kChanged event.
inline constexpr std::uint8_t kChangeExec = 1;      // comm, exe or cmdline changed (an exec)
inline constexpr std::uint8_t kChangeReparent = 2;  // ppid changed

enum class EventSource : std::uint8_t {
  kPoll = 0,       // a collector cycle's diff
  kConnector = 1,  // the kernel's netlink proc connector
  kSynthetic = 2,
};

struct Event {
  std::uint64_t seq = 0;     // grows by one per event, across restarts too
  std::int64_t time_ns = 0;  // CLOCK_REALTIME when the daemon made the event
  EventKind kind = EventKind::kStarted;
  EventSource source = EventSource::kPoll;
  std::uint8_t changes = 0;  // kChange* bits of a kChanged event
  pid_t pid = 0;
  pid_t ppid = 0;
  uid_t uid = static_cast<uid_t>(-1);  // -1: unknown
  std::uint64_t start_time = 0;        // clock ticks since boot (stat field 22)
  // Exit status as wait(2) reports it, from the connector; -1: not known (a
  // poller only sees that the process is gone).
  std::int32_t exit_status = -1;
  std::uint32_t threads = 0;
  std::uint64_t utime = 0;  // clock ticks, as last read
  std::uint64_t stime = 0;
  std::uint64_t rss_bytes = 0;
  // kSnapshot: how many processes the baseline holds.
  std::uint32_t processes = 0;
  std::string comm;
  std::string exe;
  std::vector<std::string> cmdline;
  bool cmdline_truncated = false;
};

const char* to_string(EventKind kind);
const char* to_string(EventSource source);

}  // namespace procmond
