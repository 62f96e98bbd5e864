#pragma once
// `procmond snapshot`: one collection, printed, then exit.

#include <ostream>
#include <string>

namespace procmond {

struct SnapshotCommandOptions {
  bool json = false;
  std::string proc_root = "/proc";
};

// Returns the process exit code; errors go to `err`.
int run_snapshot_command(const SnapshotCommandOptions& options, std::ostream& out,
                         std::ostream& err);

}  // namespace procmond
