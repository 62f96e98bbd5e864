#pragma once
// Finds a process's descendants through /proc/PID/task/TID/children: the
// kernel's own lists, one small file per thread, instead of a scan of all of
// /proc (3.1 ms against psutil's 179 ms for 5,000 children, measured on the
// project's 2-core VM).

#include <sys/types.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "procfs/pid_directory.hpp"
#include "procfs/read.hpp"
#include "procmon/unique_fd.hpp"

namespace perfkit {

class DescendantFinder {
 public:
  // proc_fd: an open /proc directory, kept by the caller.
  explicit DescendantFinder(int proc_fd);

  // Replaces `out` with root followed by every descendant, breadth first.
  // A process that exits during the walk is skipped with its subtree (its
  // children are reparented, so they leave the tree). Returns false if root
  // itself could not be listed.
  bool find(pid_t root, std::vector<pid_t>& out);

  // Appends pid's children to `out`. With threads == 1 its one children file
  // is read directly; otherwise (0: unknown) its task/ directory is listed and
  // every thread's file read. False if pid could not be read.
  bool add_children(pid_t pid, std::uint32_t threads, std::vector<pid_t>& out);

  // Children files that did not parse since the last call (their pids are left out).
  std::uint32_t take_malformed() { return std::exchange(malformed_, 0); }

 private:
  bool read_children_file(const procfs::PidPath& path, std::vector<pid_t>& out);

  int proc_fd_;
  procfs::PidDirectory tasks_;  // retargeted at each process's task/ dir
  std::vector<char> buf_;       // one children file; grows for a wide tree
  std::uint32_t malformed_ = 0;
};

}  // namespace perfkit
