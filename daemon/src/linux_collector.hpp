#pragma once
// Reads every process from /proc at the kernel's floor: the proc root's fd is
// reused, files are opened relative to it, each is read once into a reused
// buffer, and nothing is allocated per process once the cache is warm.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "collector.hpp"
#include "identity_tracker.hpp"
#include "procfs/pid_directory.hpp"
#include "procfs/read.hpp"
#include "procmon/unique_fd.hpp"

namespace procmond {

class LinuxCollector final : public Collector {
 public:
  // Reads PROCMOND_DELIBERATE_SLOWDOWN_NS (deliberate_slowdown.hpp) and
  // PROCMOND_DELIBERATE_LEAK_BYTES (deliberate_leak.hpp) once; throws
  // BadDeliberateKnob when one is not a count.
  explicit LinuxCollector(const CollectorOptions& options);
  const Snapshot& collect() override;
  const char* name() const override { return "proc"; }

  std::size_t held_fd_budget() const { return held_budget_; }

 private:
  struct CacheEntry {
    TrackedProcess tracked;
    procmon::UniqueFd stat_fd;  // held only in StatMode::kHeld
  };

  void read_process(pid_t pid, std::string_view name);
  bool read_held(CacheEntry& entry, StatFields& out);
  void sweep();

  CollectorOptions options_;
  std::chrono::nanoseconds slowdown_;  // per process listed; zero but in perf-suite tests
  std::size_t leak_bytes_;             // per cycle; zero but in leakcheck's tests
  procmon::UniqueFd proc_fd_;
  procfs::PidDirectory pids_;
  std::size_t held_budget_ = 0;
  std::size_t held_count_ = 0;
  std::uint64_t page_size_ = 4096;
  std::unordered_map<pid_t, CacheEntry> cache_;
  Snapshot snapshot_;
  procfs::SmallFileBuffer buf_{};  // one stat or status file
  IdentityTracker identities_;     // after buf_, which it borrows
};

}  // namespace procmond
