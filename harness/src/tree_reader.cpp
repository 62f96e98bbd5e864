#include "tree_reader.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "procfs/read.hpp"
#include "procfs/smaps_rollup.hpp"
#include "procfs/stat.hpp"
#include "procfs/statm.hpp"

namespace perfkit {
namespace {

// The kernel's clock id for a process's CPU time (MAKE_PROCESS_CPUCLOCK(pid,
// CPUCLOCK_SCHED), a stable ABI): what clock_getcpuclockid returns, without
// the clock_getres call glibc makes to check the pid, a syscall per member.
clockid_t process_cpu_clock(pid_t pid) {
  return static_cast<clockid_t>((~static_cast<unsigned>(pid) << 3) | 2u);
}

}  // namespace

TreeReader::TreeReader(pid_t root, bool children, bool pss)
    : root_(root),
      children_(children),
      pss_(pss),
      page_size_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))),
      ticks_per_s_(static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK))),
      proc_(procfs::open_proc_root()),
      finder_(proc_.get()) {
  if (root <= 0) throw std::system_error(ESRCH, std::generic_category(), "pid");
  root_dir_ = procfs::open_at(proc_.get(), std::to_string(root).c_str(), O_DIRECTORY);
  if (!root_dir_)
    throw std::system_error(errno == ENOENT ? ESRCH : errno, std::generic_category(),
                            "/proc/" + std::to_string(root));
  members_.reserve(1024);
  // Opening the files a read needs tells no such process from no permission.
  const char* file = pss ? "smaps_rollup" : "statm";
  if (!procfs::read_at(root_dir_.get(), file, buf_)) {
    const int err = errno == ENOENT ? ESRCH : errno;
    throw std::system_error(err, std::generic_category(),
                            "/proc/" + std::to_string(root) + "/" + file);
  }
  TreeReading probe;
  if (!read(probe)) throw std::system_error(ESRCH, std::generic_category(), "exited");
}

std::optional<std::string_view> TreeReader::read_file(pid_t pid, const char* file) {
  if (pid == root_) return procfs::read_at(root_dir_.get(), file, buf_);
  return procfs::read_at(proc_.get(), procfs::PidPath(pid, file).c_str(), buf_);
}

bool TreeReader::read(TreeReading& out) {
  out = TreeReading{};
  finder_.take_malformed();  // a walk the root's exit cut short left some behind
  members_.assign(1, root_);
  cpu_.begin_walk();
  // One pass, breadth first: each member is read, then its children are
  // appended. Its stat (read anyway for the reaped children's CPU) gives its
  // thread count, so a single-threaded process's children file is opened
  // directly, without a listing of its task/ directory.
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const pid_t pid = members_[i];
    std::uint32_t threads = 0;
    // The root's memory gone means it exited; a descendant's, that it left.
    // One whose memory we may not read (another user's) is walked through.
    if (read_member(pid, out, threads) == Member::kGone) {
      if (i == 0) return false;
      continue;
    }
    if (children_ && !finder_.add_children(pid, threads, members_) && i == 0) return false;
  }
  out.malformed += finder_.take_malformed();
  out.cpu_ns = cpu_.end_walk();
  return true;
}

TreeReader::Member TreeReader::read_member(pid_t pid, TreeReading& out, std::uint32_t& threads) {
  // CPU first: a zombie child still has its CPU clock until it is reaped,
  // when its time moves into the parent's cutime.
  timespec clock;
  if (::clock_gettime(process_cpu_clock(pid), &clock) != 0) return Member::kGone;
  TreeCpu::MemberCpu cpu{.pid = pid,
                         .own_ns = static_cast<std::uint64_t>(clock.tv_sec) * 1'000'000'000u +
                                   static_cast<std::uint64_t>(clock.tv_nsec)};
  // Reaped children's CPU belongs to the tree; for one process alone it does not.
  if (children_) {
    procfs::StatFields stat;
    auto text = read_file(pid, "stat");
    if (!text) return Member::kGone;
    if (!procfs::parse_stat(*text, stat)) {
      ++out.malformed;
      return Member::kDenied;  // walked through, not summed
    }
    cpu.start_time = stat.start_time;
    cpu.ppid = stat.ppid;
    cpu.reaped_ns = (stat.cutime + stat.cstime) * 1'000'000'000u / ticks_per_s_;
    threads = stat.threads;
  }
  cpu_.add(cpu);
  return read_memory(pid, out);
}

TreeReader::Member TreeReader::read_memory(pid_t pid, TreeReading& out) {
  auto text = read_file(pid, pss_ ? "smaps_rollup" : "statm");
  if (!text) {
    if (!pss_ || errno != EACCES) return Member::kGone;
    out.denied += 1;
    return Member::kDenied;
  }
  std::uint64_t rss = 0;
  if (pss_) {
    if (text->empty()) return Member::kGone;  // a zombie has no memory
    auto rollup = procfs::parse_smaps_rollup(*text);
    if (!rollup) {
      ++out.malformed;
      return Member::kDenied;
    }
    rss = rollup->rss_bytes;
    out.pss_bytes += rollup->pss_bytes;
    out.uss_bytes += rollup->uss_bytes();
  } else {
    auto statm = procfs::parse_statm(*text);
    if (!statm) {
      ++out.malformed;
      return Member::kDenied;
    }
    if (statm->size_pages == 0) return Member::kGone;  // a zombie
    rss = statm->resident_pages * page_size_;
  }
  out.procs += 1;
  out.rss_sum_bytes += rss;
  return Member::kRead;
}

}  // namespace perfkit
