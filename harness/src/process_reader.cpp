#include "process_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "procfs/read.hpp"
#include "procfs/statm.hpp"
#include "procfs/status.hpp"

namespace perfkit {
namespace {

procmon::UniqueFd open_proc(int proc_fd, pid_t pid, const char* file, int flags = 0) {
  procmon::UniqueFd fd = procfs::open_at(proc_fd, procfs::PidPath(pid, file).c_str(), flags);
  if (!fd)
    throw std::system_error(errno == ENOENT ? ESRCH : errno, std::generic_category(),
                            "/proc/" + std::to_string(pid) + "/" + file);
  return fd;
}

}  // namespace

ProcessReader::ProcessReader(pid_t pid)
    : pid_(pid), page_size_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) {
  if (pid <= 0) throw std::system_error(ESRCH, std::generic_category(), "pid");
  const procmon::UniqueFd proc = procfs::open_proc_root();
  statm_ = open_proc(proc.get(), pid, "statm");
  status_ = open_proc(proc.get(), pid, "status");
  // Another user's fds may not be listed: open_fds is then -1, the rest still sampled.
  fd_dir_ = procfs::open_at(proc.get(), procfs::PidPath(pid, "fd").c_str(), O_DIRECTORY);
  if (fd_dir_) fds_.emplace(fd_dir_.get());
  if (int rc = ::clock_getcpuclockid(pid, &cpu_clock_); rc != 0)
    throw std::system_error(rc, std::generic_category(), "clock_getcpuclockid");
  FastReading probe;
  if (read_fast(probe) != ReadResult::kOk)
    throw std::system_error(ESRCH, std::generic_category(), "exited");
}

ReadResult ProcessReader::read_fast(FastReading& out) {
  auto text = procfs::pread_whole(statm_.get(), buf_);
  if (!text) return ReadResult::kGone;  // ESRCH: reaped
  auto statm = procfs::parse_statm(*text);
  if (!statm) return ReadResult::kMalformed;
  if (statm->size_pages == 0) return ReadResult::kGone;  // a zombie has no memory
  out.rss_bytes = statm->resident_pages * page_size_;
  timespec cpu;
  if (::clock_gettime(cpu_clock_, &cpu) != 0) return ReadResult::kGone;
  out.cpu_ns = static_cast<std::uint64_t>(cpu.tv_sec) * 1'000'000'000u +
               static_cast<std::uint64_t>(cpu.tv_nsec);
  return ReadResult::kOk;
}

ReadResult ProcessReader::read_slow(SlowReading& out) {
  auto text = procfs::pread_whole(status_.get(), buf_);
  if (!text) return ReadResult::kGone;
  procfs::StatusFields status;
  if (!procfs::parse_status(*text, status)) return ReadResult::kMalformed;
  if (!status.vm_hwm_bytes) return ReadResult::kGone;  // no memory: a zombie
  if (!status.threads || !status.voluntary_switches || !status.involuntary_switches)
    return ReadResult::kMalformed;
  out.hwm_bytes = *status.vm_hwm_bytes;
  out.threads = *status.threads;
  out.voluntary_switches = *status.voluntary_switches;
  out.involuntary_switches = *status.involuntary_switches;
  out.open_fds = -1;
  std::int64_t count = 0;
  if (fds_ && fds_->for_each_pid([&](int, std::string_view) { ++count; })) out.open_fds = count;
  return ReadResult::kOk;
}

}  // namespace perfkit
