#pragma once
// The BPF program (task_iter.bpf.c), loaded from the skeleton embedded at
// build time and attached as a task iterator: read() walks every task once.

#include <memory>
#include <span>
#include <string>
#include <vector>

struct task_iter;
struct bpf_link;

namespace procmond::bpf {

class TaskIterator {
 public:
  // Loads and attaches the program. Throws std::runtime_error saying why it
  // cannot (no BTF, not permitted, a kernel without task iterators...).
  TaskIterator();
  ~TaskIterator();
  TaskIterator(const TaskIterator&) = delete;
  TaskIterator& operator=(const TaskIterator&) = delete;

  // One walk: every record, valid until the next call. Throws
  // std::system_error when the iterator cannot be created or read.
  std::span<const char> read();

 private:
  struct SkeletonDeleter {
    void operator()(task_iter* skeleton) const;
  };
  struct LinkDeleter {
    void operator()(bpf_link* link) const;
  };
  std::unique_ptr<task_iter, SkeletonDeleter> skeleton_;
  std::unique_ptr<bpf_link, LinkDeleter> link_;
  std::vector<char> buf_;  // grows to one walk's size, then is reused
};

}  // namespace procmond::bpf
