#include "tree_reader.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <system_error>

#include "proc_parsers.hpp"

namespace perfkit {
namespace {

// The number of kB after `key` in smaps_rollup, in bytes; 0 when absent.
std::uint64_t kb_field(std::string_view text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return 0;
  return std::strtoull(text.data() + at + key.size(), nullptr, 10) * 1024;
}

}  // namespace

TreeReader::TreeReader(pid_t root, bool children, bool pss)
    : root_(root),
      children_(children),
      pss_(pss),
      page_size_(::sysconf(_SC_PAGESIZE)),
      ticks_per_s_(::sysconf(_SC_CLK_TCK)),
      proc_(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)),
      finder_(proc_.get()) {
  if (!proc_) throw std::system_error(errno, std::generic_category(), "/proc");
  if (root <= 0) throw std::system_error(ESRCH, std::generic_category(), "pid");
  root_dir_.reset(
      ::openat(proc_.get(), std::to_string(root).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_dir_)
    throw std::system_error(errno == ENOENT ? ESRCH : errno, std::generic_category(),
                            "/proc/" + std::to_string(root));
  members_.reserve(1024);
  // Opening the files a read needs tells no such process from no permission.
  std::size_t size = 0;
  if (!read_file(root, pss ? "smaps_rollup" : "statm", size)) {
    const int err = errno == ENOENT ? ESRCH : errno;
    throw std::system_error(err, std::generic_category(),
                            "/proc/" + std::to_string(root) + (pss ? "/smaps_rollup" : "/statm"));
  }
  TreeReading probe;
  if (!read(probe)) throw std::system_error(ESRCH, std::generic_category(), "exited");
}

bool TreeReader::read_file(pid_t pid, const char* file, std::size_t& size) {
  char path[48];
  std::snprintf(path, sizeof path, "%d/%s", pid, file);
  procmon::UniqueFd fd(pid == root_ ? ::openat(root_dir_.get(), file, O_RDONLY | O_CLOEXEC)
                                    : ::openat(proc_.get(), path, O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  const ssize_t n = ::read(fd.get(), buf_.data(), buf_.size() - 1);
  if (n < 0) return false;
  size = static_cast<std::size_t>(n);
  buf_[size] = '\0';
  return true;
}

bool TreeReader::read(TreeReading& out) {
  out = TreeReading{};
  members_.assign(1, root_);
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
  return true;
}

// The kernel's clock id for a process's CPU time (MAKE_PROCESS_CPUCLOCK(pid,
// CPUCLOCK_SCHED), a stable ABI): what clock_getcpuclockid returns, without
// the clock_getres call glibc makes to check the pid, a syscall per member.
static clockid_t process_cpu_clock(pid_t pid) {
  return static_cast<clockid_t>((~static_cast<unsigned>(pid) << 3) | 2u);
}

TreeReader::Member TreeReader::read_member(pid_t pid, TreeReading& out, std::uint32_t& threads) {
  // CPU first: a zombie child still has its CPU clock until it is reaped,
  // when its time moves into the parent's cutime.
  timespec cpu;
  if (::clock_gettime(process_cpu_clock(pid), &cpu) != 0) return Member::kGone;
  std::uint64_t cpu_ns = static_cast<std::uint64_t>(cpu.tv_sec) * 1'000'000'000u +
                         static_cast<std::uint64_t>(cpu.tv_nsec);
  std::size_t n = 0;
  // Reaped children's CPU belongs to the tree; for one process alone it does not.
  if (children_ && read_file(pid, "stat", n)) {
    procmond::StatFields stat;
    if (procmond::parse_stat({buf_.data(), n}, stat)) {
      cpu_ns +=
          (stat.cutime + stat.cstime) * 1'000'000'000u / static_cast<std::uint64_t>(ticks_per_s_);
      threads = stat.threads;
    }
  }
  out.cpu_ns += cpu_ns;

  std::uint64_t rss = 0;
  if (pss_) {
    if (!read_file(pid, "smaps_rollup", n)) {
      if (errno != EACCES) return Member::kGone;
      out.denied += 1;
      return Member::kDenied;
    }
    if (n == 0) return Member::kGone;  // a zombie has no memory
    const std::string_view text(buf_.data(), n);
    rss = kb_field(text, "\nRss:");
    out.pss_bytes += kb_field(text, "\nPss:");
    out.uss_bytes += kb_field(text, "\nPrivate_Clean:") + kb_field(text, "\nPrivate_Dirty:");
  } else {
    if (!read_file(pid, "statm", n)) return Member::kGone;
    char* end = nullptr;
    if (std::strtoull(buf_.data(), &end, 10) == 0) return Member::kGone;  // a zombie
    rss = std::strtoull(end, nullptr, 10) * static_cast<std::uint64_t>(page_size_);
  }
  out.procs += 1;
  out.rss_sum_bytes += rss;
  return Member::kRead;
}

}  // namespace perfkit
