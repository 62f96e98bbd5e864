#include "identity_tracker.hpp"

#include <cerrno>

#include "exec_signature.hpp"
#include "identity_read.hpp"

namespace procmond {

namespace {

// ENOENT or ESRCH: the process exited meanwhile, nothing to report.
void count_identity_error(int error, CycleStats& stats) {
  if (error != 0 && error != ENOENT && error != ESRCH) ++stats.identity_errors;
}

}  // namespace

void IdentityTracker::track(pid_t pid, const StatFields& fields, TrackedProcess& tracked,
                            CycleStats& stats) {
  // The signature catches an exec that keeps the comm (bash running bash);
  // where stat hides it (0: no ptrace right) the comm alone tells.
  const std::uint64_t signature = exec_signature(fields);
  ProcessIdentity& id = tracked.identity;
  const bool changed = tracked.seen_cycle == 0 || id.start_time != fields.start_time ||
                       !(tracked.comm == fields.comm) || id.exec_signature != signature;
  if (changed || tracked.recheck_cmdline) {
    id.start_time = fields.start_time;
    id.exec_signature = signature;
    id.generation = ++generation_;
    auto errors = read_identity(proc_fd_, pid, max_cmdline_, scratch_, buf_, id);
    count_identity_error(errors.cmdline, stats);
    count_identity_error(errors.status, stats);
    if (errors.status_malformed) ++stats.parse_errors;
    tracked.comm = fields.comm;
    // exec sets the new comm a moment before the new argv: an empty cmdline
    // of a live user process is read once more next cycle, then believed.
    tracked.recheck_cmdline =
        changed && id.cmdline.empty() && !fields.kernel_thread() && fields.state != 'Z';
    ++stats.first_sight;
  }
  tracked.seen_cycle = stats.cycle;
}

}  // namespace procmond
