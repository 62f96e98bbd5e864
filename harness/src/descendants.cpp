#include "descendants.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace perfkit {

DescendantFinder::DescendantFinder(int proc_fd) : proc_fd_(proc_fd), tasks_(-1), buf_(4096) {}

bool DescendantFinder::find(pid_t root, std::vector<pid_t>& out) {
  out.clear();
  out.push_back(root);
  if (!add_children(root, 0, out)) return false;
  for (std::size_t i = 1; i < out.size(); ++i) add_children(out[i], 0, out);
  return true;
}

bool DescendantFinder::add_children(pid_t pid, std::uint32_t threads, std::vector<pid_t>& out) {
  char path[64];
  if (threads == 1) {
    std::snprintf(path, sizeof path, "%d/task/%d/children", pid, pid);
    return read_children_file(path, out);
  }
  std::snprintf(path, sizeof path, "%d/task", pid);
  procmon::UniqueFd task_dir(::openat(proc_fd_, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!task_dir) return false;
  tasks_.retarget(task_dir.get());
  return tasks_.for_each_pid([&](int tid, std::string_view) {
    std::snprintf(path, sizeof path, "%d/task/%d/children", pid, tid);
    read_children_file(path, out);  // false: the thread ended
  });
}

bool DescendantFinder::read_children_file(const char* path, std::vector<pid_t>& out) {
  procmon::UniqueFd file(::openat(proc_fd_, path, O_RDONLY | O_CLOEXEC));
  if (!file) return false;
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
  return true;
}

}  // namespace perfkit
