#include "linux_collector.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <system_error>

#include "deliberate_leak.hpp"
#include "deliberate_slowdown.hpp"
#include "procfs/stat.hpp"

namespace procmond {

std::size_t automatic_held_fd_budget() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  return lim.rlim_cur > CollectorOptions::kFdReserve ? lim.rlim_cur - CollectorOptions::kFdReserve
                                                     : 0;
}

LinuxCollector::LinuxCollector(const CollectorOptions& options)
    : options_(options),
      slowdown_(deliberate_slowdown_ns(std::getenv(kDeliberateSlowdownVar))),
      leak_bytes_(deliberate_leak_bytes(std::getenv(kDeliberateLeakVar))),
      proc_fd_(procfs::open_proc_root(options.proc_root)),
      pids_(proc_fd_.get()),
      identities_(proc_fd_.get(), options.max_cmdline_bytes, buf_) {
  if (options_.mode == StatMode::kHeld)
    held_budget_ = options_.max_held_fds ? options_.max_held_fds : automatic_held_fd_budget();
  if (long ps = ::sysconf(_SC_PAGESIZE); ps > 0) page_size_ = static_cast<std::uint64_t>(ps);
}

const Snapshot& LinuxCollector::collect() {
  snapshot_.processes.clear();
  snapshot_.stats = CycleStats{.cycle = snapshot_.stats.cycle + 1};
  if (leak_bytes_ > 0) leak(leak_bytes_);
  bool listed = pids_.for_each_pid([this](pid_t pid, std::string_view name) {
    ++snapshot_.stats.listed;
    read_process(pid, name);
    if (slowdown_.count() > 0) spin_for(slowdown_);
  });
  if (!listed)
    throw std::system_error(errno, std::generic_category(), "list " + options_.proc_root);
  sweep();
  snapshot_.stats.held_fds = static_cast<std::uint32_t>(held_count_);
  return snapshot_;
}

// Re-reads a held stat fd. A process that exited, or whose pid was reused,
// fails here (the kernel answers ESRCH on the old fd), and the fd is dropped.
bool LinuxCollector::read_held(CacheEntry& entry, StatFields& out) {
  auto text = procfs::pread_whole(entry.stat_fd.get(), buf_);
  if (text && procfs::parse_stat(*text, out) && out.start_time == entry.tracked.identity.start_time)
    return true;
  entry.stat_fd.reset();
  --held_count_;
  return false;
}

void LinuxCollector::read_process(pid_t pid, std::string_view name) {
  CycleStats& stats = snapshot_.stats;
  auto it = cache_.find(pid);
  StatFields fields;
  procmon::UniqueFd fresh_fd;

  if (it == cache_.end() || !it->second.stat_fd || !read_held(it->second, fields)) {
    // Read /proc/PID/stat
    fresh_fd = procfs::open_at(proc_fd_.get(), procfs::PidPath(name, "stat").c_str());
    auto text = fresh_fd ? procfs::pread_whole(fresh_fd.get(), buf_) : std::nullopt;
    if (!text || text->empty()) {
      // ENOENT/ESRCH: exited between the listing and the read. Anything else
      // (EMFILE above all) is ours to report, not the process's.
      ++(text || errno == ENOENT || errno == ESRCH ? stats.vanished : stats.read_errors);
      return;
    }
    if (!procfs::parse_stat(*text, fields)) {
      ++stats.parse_errors;
      return;
    }
    if (held_count_ >= held_budget_) fresh_fd.reset();
  }

  if (it == cache_.end()) it = cache_.try_emplace(pid).first;
  CacheEntry& entry = it->second;
  identities_.track(pid, fields, entry.tracked, stats);
  if (fresh_fd) {
    if (!entry.stat_fd) ++held_count_;
    entry.stat_fd = std::move(fresh_fd);
  }
  snapshot_.processes.push_back(ProcessRecord{.stat = fields,
                                              .rss_bytes = fields.rss_pages * page_size_,
                                              .identity = &entry.tracked.identity});
}

// Mark and sweep: an entry not seen this cycle belongs to an exited process.
// Every record of this cycle marked a distinct entry, so when the counts
// agree nothing has exited and the walk over the cache is skipped.
void LinuxCollector::sweep() {
  if (snapshot_.processes.size() == cache_.size()) return;
  const std::uint64_t cycle = snapshot_.stats.cycle;
  std::erase_if(cache_, [&](const auto& kv) {
    if (kv.second.tracked.seen_cycle == cycle) return false;
    if (kv.second.stat_fd) --held_count_;
    return true;
  });
}

const char* to_string(StatMode mode) {
  return mode == StatMode::kHeld ? "held" : "plain";
}

}  // namespace procmond
