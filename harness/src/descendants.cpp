#include "descendants.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "procfs/children.hpp"
#include "procfs/read.hpp"

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
  if (threads == 1) return read_children_file(procfs::PidPath(pid, pid, "children"), out);
  procmon::UniqueFd task_dir =
      procfs::open_at(proc_fd_, procfs::PidPath(pid, "task").c_str(), O_DIRECTORY);
  if (!task_dir) return false;
  tasks_.retarget(task_dir.get());
  return tasks_.for_each_pid([&](int tid, std::string_view) {
    read_children_file(procfs::PidPath(pid, tid, "children"), out);  // false: the thread ended
  });
}

bool DescendantFinder::read_children_file(const procfs::PidPath& path, std::vector<pid_t>& out) {
  procmon::UniqueFd file = procfs::open_at(proc_fd_, path.c_str());
  if (!file) return false;
  std::size_t used = 0;
  for (ssize_t n; (n = ::read(file.get(), buf_.data() + used, buf_.size() - used)) > 0;) {
    used += static_cast<std::size_t>(n);
    if (used == buf_.size()) buf_.resize(buf_.size() * 2);
  }
  if (!procfs::parse_children({buf_.data(), used}, out)) ++malformed_;
  return true;
}

}  // namespace perfkit
