#include "zygote_server.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sched.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>

#include "io_all.hpp"

namespace loadgen::child {

// Each child is made with CLONE_PARENT: loadgen is its parent and reaps it, as
// if it had forked it itself; it is in the zygote's process group, the run's.
void serve_zygote(const KindSpec& spec, pid_t parent, const char* parent_arg) {
  constexpr int kSocket = 3;
  constexpr std::uint32_t kMaxBatch = 1024;
  const bool is_tree = spec.kind == KindSpec::kTree;
  for (;;) {
    std::uint32_t n = 0;
    if (!read_all(kSocket, &n, sizeof n)) std::_Exit(0);  // loadgen is done
    if (n > kMaxBatch) n = kMaxBatch;
    for (std::uint32_t i = 0; i < n; ++i) {
      // A tree's root says on a pipe what it made; the reply waits for it.
      int report[2] = {-1, -1};
      if (is_tree && ::pipe2(report, O_CLOEXEC) != 0) report[0] = report[1] = -1;
      long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
      const int clone_error = errno;
      if (pid == 0) {
        ::close(kSocket);
        if (report[0] >= 0) ::close(report[0]);
        die_with(parent);
        run_kind(spec, parent_arg, report[1]);
      }
      if (report[1] >= 0) ::close(report[1]);
      TreeReport made;
      if (pid < 0) {
        made = {0, clone_error};
      } else if (is_tree && (report[0] < 0 || !read_all(report[0], &made, sizeof made))) {
        made = {1, report[0] < 0 ? EMFILE : ECHILD};  // the root lives; what it made is unknown
      }
      if (report[0] >= 0) ::close(report[0]);
      // Each child at once, so that loadgen times every child, not the batch.
      const std::int32_t reply[3] = {pid > 0 ? static_cast<std::int32_t>(pid) : -clone_error,
                                     made.nodes, made.error};
      if (!write_all(kSocket, reply, sizeof reply)) std::_Exit(0);
    }
  }
}

}  // namespace loadgen::child
