#pragma once
// Every process in one read of a BPF task iterator, instead of one /proc
// file per process: the kernel copies binary fields, no text is formatted
// or parsed. cmdline, exe and uid are still read from /proc, once per
// process (IdentityTracker), as the /proc collector does.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

#include "collector.hpp"
#include "identity_tracker.hpp"
#include "procfs/read.hpp"
#include "procmon/unique_fd.hpp"
#include "task_records.hpp"

namespace procmond::bpf {

class TaskIterator;

class BpfCollector final : public Collector {
 public:
  // Throws std::runtime_error saying why BPF cannot be used here, and
  // BadDeliberateKnob as the /proc collector does.
  explicit BpfCollector(const CollectorOptions& options);
  ~BpfCollector() override;
  const Snapshot& collect() override;
  const char* name() const override { return "bpf"; }
  std::span<const pid_t> hidden() const override { return hidden_; }

 private:
  struct CacheEntry {
    TrackedProcess tracked;
    CpuSplit reported;  // the last split reported, so that neither side goes back
  };

  void walk();
  void complete(ProcessRecord& record, const TaskCpu& cpu);
  void find_hidden();
  void sweep();

  CollectorOptions options_;
  std::chrono::nanoseconds slowdown_;
  std::size_t leak_bytes_;
  procmon::UniqueFd proc_fd_;
  std::unique_ptr<TaskIterator> iterator_;
  TaskRecordDecoder decoder_;
  std::unordered_map<pid_t, CacheEntry> cache_;
  std::vector<pid_t> hidden_;
  Snapshot snapshot_;
  procfs::SmallFileBuffer buf_{};
  IdentityTracker identities_;  // after buf_, which it borrows
};

}  // namespace procmond::bpf
