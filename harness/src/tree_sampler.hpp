#pragma once
// Samples a process tree (or one process's PSS) on its own thread, at its own
// rate: a walk of a large tree with smaps_rollup takes long enough (about
// 0.1 s for 1,000 processes with PSS) that it would make the fast sampler miss its
// deadlines if it ran there.

#include <atomic>
#include <cstdint>
#include <vector>

#include "deadline_grid.hpp"
#include "tree_reader.hpp"

namespace perfkit {

struct TreeOptions {
  pid_t pid = 0;
  double hz = 1;         // 0.1 .. 100
  bool children = true;  // the root and its descendants, or the root alone
  bool pss = true;       // PSS and USS from smaps_rollup
  double max_seconds = 3600;
};

struct TreeSeries {
  std::vector<double> t;  // seconds since start()
  std::vector<std::uint32_t> procs, denied, malformed;
  std::vector<std::uint64_t> rss_sum_bytes, pss_bytes, uss_bytes;
  // Cumulative CPU of the tree since start() (tree_cpu.hpp): the sum of each
  // member's growth, so it never falls and a member leaving flattens nothing.
  std::vector<std::uint64_t> cpu_ns;
  std::vector<std::uint64_t> walk_ns;  // what each read cost, for honesty about overhead
};

class TreeSampler {
 public:
  // Throws std::system_error (ESRCH, EACCES) when the pid cannot be read.
  explicit TreeSampler(const TreeOptions& options);

  void start();
  void stop() { grid_.stop(); }  // wakes and joins the thread at once; idempotent

  // Valid to read once stop() has returned.
  const TreeSeries& series() const { return series_; }
  std::uint64_t missed() const { return grid_.missed(); }
  // These may be read at any time, while the sampling thread writes them.
  bool exited() const { return exit_t_.load() >= 0; }
  double exit_t() const { return exit_t_.load(); }
  bool truncated() const { return truncated_.load(); }
  double duration_s() const { return grid_.result().duration_s; }
  double self_cpu_s() const { return grid_.result().cpu_s; }  // the sampling thread's own CPU

 private:
  GridResult run(GridControl& stop);

  TreeOptions options_;
  TreeReader reader_;
  TreeSeries series_;
  std::atomic<double> exit_t_{-1};
  std::atomic<bool> truncated_{false};
  GridThread grid_;  // last: joined before the members it writes are destroyed
};

}  // namespace perfkit
