#pragma once
// What /proc says of a pid, for the tests: enough to tell whose child it is,
// which group it is in, and what it runs.

#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

namespace loadgen::testing {

struct ProcView {
  bool exists = false;
  std::string comm;
  char state = '?';
  pid_t ppid = 0, pgrp = 0;
};

inline ProcView view(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  ProcView v;
  if (!std::getline(in, line)) return v;
  auto open = line.find('('), close = line.rfind(')');
  v.exists = true;
  v.comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  rest >> v.state >> v.ppid >> v.pgrp;
  return v;
}

// True once the test process has no child left at all (waitpid says ECHILD).
inline bool no_children_left() {
  int status;
  return ::waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace loadgen::testing
