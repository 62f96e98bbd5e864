#pragma once
// Children for tests and benchmarks, all killed and reaped when the owner goes
// out of scope (also when a test fails). Each child also dies with its parent
// (PR_SET_PDEATHSIG), so a crashed test leaves no orphans behind.

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace procmond::testing {

class ForkedChildren {
 public:
  ForkedChildren() = default;
  ForkedChildren(const ForkedChildren&) = delete;
  ForkedChildren& operator=(const ForkedChildren&) = delete;
  ~ForkedChildren() { kill_all(); }

  // A child that sleeps in pause() until killed; it keeps our comm and cmdline.
  pid_t spawn_paused();
  // fork + execv(argv[0], argv). Throws if the exec target is missing.
  pid_t spawn_exec(const std::vector<std::string>& argv);
  // A child that exits at once and stays a zombie until reap() or kill_all().
  pid_t spawn_zombie();
  // A child that runs `body`, then exits (a zombie until reaped); a body that
  // should live on ends in pause() or exec. The child calls nothing but
  // `body` (no allocation): forked from a single-threaded parent (a test),
  // the body may do anything; from a threaded one, only async-signal-safe calls.
  pid_t spawn(const std::function<void()>& body);

  // Grows or shrinks the set of paused children to `n` (benchmark pools).
  void resize_paused(std::size_t n);

  // SIGKILL and reap one child / all children.
  void reap(pid_t pid);
  void kill_all();

  const std::vector<pid_t>& pids() const { return pids_; }
  std::size_t size() const { return pids_.size(); }

 private:
  void kill_and_reap(std::vector<pid_t>::iterator first, std::vector<pid_t>::iterator last);
  std::vector<pid_t> pids_;
};

}  // namespace procmond::testing
