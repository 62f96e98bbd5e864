#pragma once
// The process group every child of a run is put in, so that teardown's last
// step can kill whatever is in it, tracked or not (a child the zygote forked
// while loadgen was interrupted, a grandchild). loadgen stays in the group it
// was started in: it must never kill its own parent, and Ctrl-C from the
// terminal must still reach it.
//
// The group's leader is an anchor: a child that only pauses and that teardown
// reaps last. While it is unreaped its pid, the group id, cannot be reused, so
// the final kill(-group) can never reach anyone else's group.

#include <sys/types.h>

namespace loadgen {

class ProcessGroup {
 public:
  // Forks the anchor; throws std::system_error when it cannot.
  ProcessGroup();
  // Kills the group and reaps the anchor if teardown has not.
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  pid_t id() const { return anchor_; }
  // SIGKILL to every member of the group, the anchor included.
  void kill_all() const;
  // Told by the caller's reaper that `pid` was reaped (it may be the anchor).
  void reaped(pid_t pid);

 private:
  pid_t anchor_ = -1;
};

}  // namespace loadgen
