#pragma once
// Reads the memory and CPU of a process and, when asked, of all its
// descendants, as one figure for the tree.
//
// Memory: RSS summed over a tree counts every shared page once per process
// (5,000 sleeps sum to 8.8 GiB RSS, about 106 KB PSS each), so with pss the
// reader sums PSS from smaps_rollup (each shared page split among its users)
// and USS (Private_Clean + Private_Dirty: what the tree alone holds).
// smaps_rollup walks the page tables (39-70 µs a process here), which is
// why the tree is read at its own, lower rate.
//
// CPU (tree_cpu.hpp): what the members had at the first read, then each
// member's growth between two reads, so a member that leaves the tree takes
// none of what was counted with it.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "descendants.hpp"
#include "procfs/read.hpp"
#include "procmon/unique_fd.hpp"
#include "tree_cpu.hpp"

namespace perfkit {

struct TreeReading {
  std::uint32_t procs = 0;          // live processes read (root + descendants)
  std::uint32_t denied = 0;         // members whose memory may not be read (not in the sums)
  std::uint32_t malformed = 0;      // files that did not parse (those members not in the sums)
  std::uint64_t rss_sum_bytes = 0;  // over-counts shared pages; for comparison only
  std::uint64_t pss_bytes = 0;      // 0 unless pss
  std::uint64_t uss_bytes = 0;      // 0 unless pss
  std::uint64_t cpu_ns = 0;         // cumulative: all members had at the first read, plus
                                    // what they grew since; never falls
};

class TreeReader {
 public:
  // Throws std::system_error: ESRCH for no such process, EACCES when
  // smaps_rollup (pss) may not be read, which needs ptrace access.
  TreeReader(pid_t root, bool children, bool pss);

  // False once the root has exited (a zombie root counts as exited).
  bool read(TreeReading& out);

 private:
  enum class Member { kRead, kDenied, kGone };
  // threads: from stat when read (children), else 0.
  Member read_member(pid_t pid, TreeReading& out, std::uint32_t& threads);
  Member read_memory(pid_t pid, TreeReading& out);
  // One whole file of a member; the root's through a held /proc/ROOT fd, so
  // that a reused pid is never read.
  std::optional<std::string_view> read_file(pid_t pid, const char* file);

  pid_t root_;
  bool children_, pss_;
  std::uint64_t page_size_, ticks_per_s_;
  procmon::UniqueFd proc_, root_dir_;
  DescendantFinder finder_;
  TreeCpu cpu_;
  std::vector<pid_t> members_;
  procfs::SmallFileBuffer buf_{};
};

}  // namespace perfkit
