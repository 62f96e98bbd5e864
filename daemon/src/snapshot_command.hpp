#pragma once
// `procmond snapshot`: one collection, printed, then exit.

#include <ostream>
#include <string>

#include "collector.hpp"

namespace procmond {

struct SnapshotCommandOptions {
  bool json = false;
  CollectorKind collector = CollectorKind::kAuto;
  std::string proc_root = "/proc";
  std::size_t max_cmdline_bytes = CollectorOptions::kDefaultMaxCmdline;
};

// Exit statuses: 0 every process read (some may have exited meanwhile);
// 1 the output could not be written; 2 PROCMOND_DELIBERATE_SLOWDOWN_NS is
// bad; 3 /proc could not be read at all, or --collector bpf cannot be had.
// Processes that could not be read or parsed are counted in the JSON and
// said on stderr, and do not change the status.
constexpr int kExitProcUnreadable = 3;

// Returns the process exit code; errors go to `err`.
int run_snapshot_command(const SnapshotCommandOptions& options, std::ostream& out,
                         std::ostream& err);

}  // namespace procmond
