#pragma once
// Three ways to start a child, behind one interface (figures for 10,000 on
// this 2-core machine; loadgen/README.md has the table):
//  - CloneSpawner: clone(CLONE_VM) onto a 2 KiB stack from a pooled arena, no
//    exec. About 30 µs a child: for the sleep kind, where the child need only
//    exist. It shares our memory and shows our comm.
//  - ZygoteSpawner: asks one long-lived loadgen-child (the zygote) to fork
//    each child with CLONE_PARENT, so that the child is ours. About 100 µs:
//    every kind, with the helper's own small image and name.
//  - HelperSpawner: posix_spawn (exec) of loadgen-child per child. About
//    300 µs; the plain way, kept to measure the others against.
// A tree's root reports the nodes it made before its spawn returns (through
// the zygote, or a pipe given to the helper as fd 3 and closed after).
// None holds an fd per child; the caller reaps (waitpid) and reports each
// reaped pid back through reaped(). Each puts its children in process group
// `pgid` (0: the caller's own).

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "procmon/mapping.hpp"
#include "procmon/unique_fd.hpp"

namespace loadgen {

struct SpawnResult {
  pid_t pid = -1;
  int error = 0;  // errno when pid < 0
  // A tree's processes made, its root included, as the root reported them
  // (1 for every other kind), and the first fork error below it, or 0.
  std::uint32_t nodes = 1;
  int tree_error = 0;
};

class Spawner {
 public:
  // Called for each child of a batch with the seconds it took: since the
  // request for the first, since the one before for the rest.
  using OnChild = std::function<void(const SpawnResult&, double seconds)>;

  virtual ~Spawner() = default;
  virtual SpawnResult spawn() = 0;
  // Starts `n` children; the zygote takes the whole batch in one request.
  virtual void spawn_many(std::size_t n, const OnChild& on_child);
  // How many more children it can start before some are reaped.
  virtual std::size_t room() const { return SIZE_MAX; }
  virtual void reaped(pid_t /*pid*/) {}
  // Stops whatever helper process the spawner keeps, so that the caller can
  // wait for every child of its own until none is left.
  virtual void shutdown() {}
};

class CloneSpawner final : public Spawner {
 public:
  static constexpr std::size_t kStackBytes = 2048;
  // Room for `max_live` children alive at once.
  explicit CloneSpawner(std::size_t max_live, pid_t pgid = 0);
  SpawnResult spawn() override;
  void reaped(pid_t pid) override;
  std::size_t room() const override { return free_slots_.size(); }

 private:
  procmon::Mapping arena_;
  std::vector<std::uint32_t> free_slots_;
  std::unordered_map<pid_t, std::uint32_t> slot_of_;
  pid_t parent_;
  pid_t pgid_;
};

class ZygoteSpawner final : public Spawner {
 public:
  // argv after the program name, e.g. {"cpu", "0.05"}. Starts the zygote in
  // group `pgid` (its children inherit it); throws std::system_error when it cannot.
  ZygoteSpawner(const std::string& helper_path, std::vector<std::string> args, pid_t pgid = 0);
  ~ZygoteSpawner() override;
  SpawnResult spawn() override;
  void spawn_many(std::size_t n, const OnChild& on_child) override;
  void shutdown() override;
  // The zygote itself reaped (it died): its pid may soon be another process's.
  void reaped(pid_t pid) override {
    if (pid == zygote_) zygote_ = -1;
  }

 private:
  procmon::UniqueFd socket_;
  pid_t zygote_ = -1;
};

class HelperSpawner final : public Spawner {
 public:
  // argv after the program name, e.g. {"cpu", "0.05"}; --parent is added.
  HelperSpawner(std::string helper_path, std::vector<std::string> args, pid_t pgid = 0);
  SpawnResult spawn() override;

 private:
  std::string path_;
  std::vector<std::string> args_;
  std::vector<char*> argv_;
  pid_t pgid_;
  bool tree_;
};

}  // namespace loadgen
