#include "snapshot_command.hpp"

#include <exception>

#include "collector.hpp"
#include "snapshot_format.hpp"

namespace procmond {

int run_snapshot_command(const SnapshotCommandOptions& options, std::ostream& out,
                         std::ostream& err) {
  try {
    // One cycle only: holding stat fds would buy nothing.
    auto collector = make_collector({.proc_root = options.proc_root, .mode = StatMode::kPlain});
    const Snapshot& snapshot = collector->collect();
    if (options.json) {
      out << snapshot_to_json(snapshot).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace)
          << '\n';
    } else {
      write_snapshot_table(snapshot, out);
    }
    return out.good() ? 0 : 1;
  } catch (const std::exception& e) {
    err << "procmond snapshot: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace procmond
