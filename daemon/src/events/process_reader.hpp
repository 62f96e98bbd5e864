#pragma once
// The seam through which the differ reads one process at once (a connector's
// fork or exec): /proc in the daemon (proc_process_reader.hpp), a map in tests.

#include <sys/types.h>

#include <cstdint>

#include "process_record.hpp"

namespace procmond {

// What a reader saw of one process now.
struct ProcessSample {
  StatFields stat;
  std::uint64_t rss_bytes = 0;
  ProcessIdentity identity;  // generation unused (0)
};

class ProcessReader {
 public:
  virtual ~ProcessReader() = default;
  // False when the process cannot be read (gone already). A part it cannot
  // read (cmdline, status, exe) is left empty, as the collector does. `out`
  // is reused: its strings keep their capacity.
  virtual bool read(pid_t pid, ProcessSample& out) = 0;
  // stat alone (out.identity untouched): a forked child that still has its
  // parent's exec signature and comm runs its parent's program, so its
  // cmdline, exe and uid are the parent's and need no reading.
  virtual bool read_stat(pid_t pid, ProcessSample& out) { return read(pid, out); }
};

}  // namespace procmond
