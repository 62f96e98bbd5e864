#include "bpf_collector.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "deliberate_leak.hpp"
#include "deliberate_slowdown.hpp"
#include "procfs/pid_directory.hpp"
#include "task_iterator.hpp"

namespace procmond::bpf {

namespace {

Units host_units() {
  Units u;
  if (long hz = ::sysconf(_SC_CLK_TCK); hz > 0)
    u.ns_per_tick = 1'000'000'000ull / static_cast<std::uint64_t>(hz);
  if (long ps = ::sysconf(_SC_PAGESIZE); ps > 0) u.page_size = static_cast<std::uint64_t>(ps);
  return u;
}

}  // namespace

BpfCollector::BpfCollector(const CollectorOptions& options)
    : options_(options),
      slowdown_(deliberate_slowdown_ns(std::getenv(kDeliberateSlowdownVar))),
      leak_bytes_(deliberate_leak_bytes(std::getenv(kDeliberateLeakVar))),
      proc_fd_(procfs::open_proc_root(options.proc_root)),
      iterator_(std::make_unique<TaskIterator>()),
      decoder_(host_units()),
      identities_(proc_fd_.get(), options.max_cmdline_bytes, buf_) {
  find_hidden();
}

// A pid /proc lists before and after a walk of the iterator, but the walk
// did not see, is hidden from it (short-lived processes are in only one of
// the listings). Once, when made: it costs a /proc listing or two.
void BpfCollector::find_hidden() {
  auto listing = [this] {
    std::vector<pid_t> pids;
    procfs::PidDirectory dir(proc_fd_.get());
    if (!dir.for_each_pid([&](pid_t pid, std::string_view) { pids.push_back(pid); }))
      throw std::system_error(errno, std::generic_category(), "list " + options_.proc_root);
    std::sort(pids.begin(), pids.end());
    return pids;
  };
  std::vector<pid_t> before = listing();
  walk();
  std::vector<pid_t> after = listing();
  std::vector<pid_t> walked;
  for (const ProcessRecord& p : snapshot_.processes) walked.push_back(p.stat.pid);
  std::vector<pid_t> listed;
  std::set_intersection(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(listed));
  std::set_difference(listed.begin(), listed.end(), walked.begin(), walked.end(),
                      std::back_inserter(hidden_));
}

BpfCollector::~BpfCollector() = default;

const Snapshot& BpfCollector::collect() {
  snapshot_.stats = CycleStats{.cycle = snapshot_.stats.cycle + 1};
  if (leak_bytes_ > 0) leak(leak_bytes_);
  walk();
  snapshot_.stats.listed = static_cast<std::uint32_t>(snapshot_.processes.size());
  const std::span<const TaskCpu> cpu = decoder_.cpu();
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    complete(snapshot_.processes[i], cpu[i]);
    if (slowdown_.count() > 0) spin_for(slowdown_);
  }
  sweep();
  return snapshot_;
}

// One walk of the iterator, decoded straight into the snapshot as it is read.
void BpfCollector::walk() {
  std::vector<ProcessRecord>& out = snapshot_.processes;
  decoder_.begin(out);
  if (!iterator_->walk([&](std::span<const char> bytes) { return decoder_.take(bytes, out); }))
    throw std::runtime_error("the BPF task iterator's records are malformed");
  decoder_.finish(out);
}

// What the walk leaves to us: the CPU split, and the identity.
void BpfCollector::complete(ProcessRecord& record, const TaskCpu& cpu) {
  StatFields& f = record.stat;
  CacheEntry& entry = cache_[f.pid];
  if (entry.tracked.seen_cycle != 0 && entry.tracked.identity.start_time != f.start_time)
    entry.reported = {};  // a reused pid: another process's times
  // /proc stores each split it reports and never goes below it; so do we,
  // from /proc's where it is the later of the two.
  entry.reported = next_split(cpu.cpu, entry.reported, cpu.kernel_prev);
  f.utime = decoder_.ticks(entry.reported.utime_ns);
  f.stime = decoder_.ticks(entry.reported.stime_ns);
  identities_.track(f.pid, f, entry.tracked, snapshot_.stats);
  record.identity = &entry.tracked.identity;
}

// Mark and sweep, as the /proc collector does.
void BpfCollector::sweep() {
  if (snapshot_.processes.size() == cache_.size()) return;
  const std::uint64_t cycle = snapshot_.stats.cycle;
  std::erase_if(cache_, [&](const auto& kv) { return kv.second.tracked.seen_cycle != cycle; });
}

}  // namespace procmond::bpf
