#include "snapshot_command.hpp"

#include <exception>
#include <memory>
#include <system_error>

#include "collector.hpp"
#include "deliberate_knob.hpp"
#include "snapshot_format.hpp"

namespace procmond {

int run_snapshot_command(const SnapshotCommandOptions& options, std::ostream& out,
                         std::ostream& err) {
  const Snapshot* taken = nullptr;
  std::unique_ptr<Collector> collector;
  std::string why_not_bpf;
  try {
    // One cycle only: holding stat fds would buy nothing.
    collector = make_collector({.kind = options.collector,
                                .proc_root = options.proc_root,
                                .mode = StatMode::kPlain,
                                .max_cmdline_bytes = options.max_cmdline_bytes},
                               &why_not_bpf);
    taken = &collector->collect();
  } catch (const BadDeliberateKnob& e) {
    err << "procmond snapshot: " << e.what() << '\n';
    return 2;  // a bad argument, given through the environment
  } catch (const std::system_error& e) {
    err << "procmond snapshot: cannot read " << options.proc_root << ": " << e.what() << '\n';
    return kExitProcUnreadable;
  } catch (const std::exception& e) {
    err << "procmond snapshot: " << e.what() << '\n';
    return kExitProcUnreadable;
  }
  const Snapshot& snapshot = *taken;
  if (const CycleStats& st = snapshot.stats;
      st.read_errors || st.parse_errors || st.identity_errors) {
    err << "procmond snapshot: " << st.read_errors << " of " << st.listed
        << " processes could not be read and are left out; " << st.parse_errors
        << " files were malformed (the process left out, or its uid unknown); "
        << st.identity_errors << " command lines or uids could not be read\n";
  }
  try {
    if (options.json) {
      nlohmann::json j = snapshot_to_json(snapshot);
      j["collector"] = collector->name();
      if (!why_not_bpf.empty()) j["collector_fallback"] = why_not_bpf;  // why not BPF
      if (!collector->hidden().empty()) j["collector_hidden"] = collector->hidden();
      out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
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
