#pragma once
// The BPF program (task_iter.bpf.c), loaded from the skeleton embedded at
// build time and attached as a task iterator: walk() visits every task once.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
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

  // One walk. `take` gets the bytes of each read (after what it left of the
  // last one) and returns how many it used, the rest (a record the read cut)
  // kept for the next; nullopt stops the walk and walk() returns false. The
  // buffer is a fixed 64 KiB, whatever the number of tasks. Throws
  // std::system_error when the iterator cannot be created or read.
  using Take = std::function<std::optional<std::size_t>(std::span<const char>)>;
  bool walk(const Take& take);

 private:
  struct SkeletonDeleter {
    void operator()(task_iter* skeleton) const;
  };
  struct LinkDeleter {
    void operator()(bpf_link* link) const;
  };
  std::unique_ptr<task_iter, SkeletonDeleter> skeleton_;
  std::unique_ptr<bpf_link, LinkDeleter> link_;
  std::vector<char> buf_;
};

}  // namespace procmond::bpf
