#pragma once
// What /proc says of a pid, for the tests: enough to tell whose child it is,
// which group it is in, and what it runs. Read through procfs, the project's
// one /proc parser.

#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>

#include "procfs/quick_read.hpp"

namespace loadgen::testing {

struct ProcView {
  bool exists = false;
  std::string comm;
  char state = '?';
  pid_t ppid = 0, pgrp = 0;
};

inline ProcView view(pid_t pid) {
  auto stat = procfs::read_stat(pid);
  if (!stat) return {};
  return {.exists = true,
          .comm = std::string(stat->comm.view()),
          .state = stat->state,
          .ppid = stat->ppid,
          .pgrp = stat->pgrp};
}

// True once the test process has no child left at all (waitpid says ECHILD).
inline bool no_children_left() {
  int status;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace loadgen::testing
