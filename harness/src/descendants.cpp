#include "descendants.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace perfkit {

DescendantFinder::DescendantFinder(int proc_fd) : proc_fd_(proc_fd), tasks_(-1), buf_(4096) {}

bool DescendantFinder::find(pid_t root, std::vector<pid_t>& out) {
  out.clear();
  out.push_back(root);
  if (!add_children(root, out)) return false;
  for (std::size_t i = 1; i < out.size(); ++i) add_children(out[i], out);
  return true;
}

bool DescendantFinder::add_children(pid_t pid, std::vector<pid_t>& out) {
  char path[64];
  std::snprintf(path, sizeof path, "%d/task", pid);
  procmon::UniqueFd task_dir(::openat(proc_fd_, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!task_dir) return false;
  tasks_.retarget(task_dir.get());
  return tasks_.for_each_pid([&](int tid, std::string_view) {
    std::snprintf(path, sizeof path, "%d/task/%d/children", pid, tid);
    procmon::UniqueFd file(::openat(proc_fd_, path, O_RDONLY | O_CLOEXEC));
    if (!file) return;  // the thread ended
    std::size_t used = 0;
    for (ssize_t n; (n = ::read(file.get(), buf_.data() + used, buf_.size() - used)) > 0;) {
      used += static_cast<std::size_t>(n);
      if (used == buf_.size()) buf_.resize(buf_.size() * 2);
    }
    // "123 456 " : pids, each followed by a space.
    pid_t child = 0;
    bool digits = false;
    for (std::size_t i = 0; i < used; ++i) {
      const char c = buf_[i];
      if (c >= '0' && c <= '9') {
        child = child * 10 + (c - '0');
        digits = true;
      } else {
        if (digits) out.push_back(child);
        child = 0;
        digits = false;
      }
    }
    if (digits) out.push_back(child);
  });
}

}  // namespace perfkit
