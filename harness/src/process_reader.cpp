#include "process_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace perfkit {
namespace {

procmon::UniqueFd open_proc(pid_t pid, const char* file) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  procmon::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw std::system_error(errno == ENOENT ? ESRCH : errno, std::generic_category(), path);
  return fd;
}

// The number after `key` in /proc/PID/status, or 0.
std::uint64_t status_field(std::string_view text, std::string_view key) {
  auto at = text.find(key);
  if (at == std::string_view::npos) return 0;
  return std::strtoull(text.data() + at + key.size(), nullptr, 10);
}

}  // namespace

ProcessReader::ProcessReader(pid_t pid) : pid_(pid), page_size_(::sysconf(_SC_PAGESIZE)) {
  if (pid <= 0) throw std::system_error(ESRCH, std::generic_category(), "pid");
  statm_ = open_proc(pid, "statm");
  status_ = open_proc(pid, "status");
  // Another user's fds may not be listed: open_fds is then -1, the rest still sampled.
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  fd_dir_.reset(::open(fd_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd_dir_) fds_.emplace(fd_dir_.get());
  if (int rc = ::clock_getcpuclockid(pid, &cpu_clock_); rc != 0)
    throw std::system_error(rc, std::generic_category(), "clock_getcpuclockid");
  FastReading probe;
  if (!read_fast(probe)) throw std::system_error(ESRCH, std::generic_category(), "exited");
}

bool ProcessReader::read_fast(FastReading& out) {
  ssize_t n = ::pread(statm_.get(), buf_.data(), buf_.size() - 1, 0);
  if (n <= 0) return false;  // ESRCH: reaped
  buf_[static_cast<std::size_t>(n)] = '\0';
  char* end = nullptr;
  // size, then resident (summed exactly, unlike stat's rss); a zombie's are 0.
  if (std::strtoull(buf_.data(), &end, 10) == 0) return false;
  out.rss_bytes = std::strtoull(end, nullptr, 10) * static_cast<std::uint64_t>(page_size_);
  timespec cpu;
  if (::clock_gettime(cpu_clock_, &cpu) != 0) return false;
  out.cpu_ns = static_cast<std::uint64_t>(cpu.tv_sec) * 1'000'000'000u +
               static_cast<std::uint64_t>(cpu.tv_nsec);
  return true;
}

bool ProcessReader::read_slow(SlowReading& out) {
  ssize_t n = ::pread(status_.get(), buf_.data(), buf_.size() - 1, 0);
  if (n <= 0) return false;
  const std::string_view text(buf_.data(), static_cast<std::size_t>(n));
  if (text.find("VmHWM:") == std::string_view::npos) return false;  // no memory: exited
  out.hwm_bytes = status_field(text, "VmHWM:") * 1024;
  out.threads = static_cast<std::uint32_t>(status_field(text, "\nThreads:"));
  out.voluntary_switches = status_field(text, "\nvoluntary_ctxt_switches:");
  out.involuntary_switches = status_field(text, "nonvoluntary_ctxt_switches:");
  out.open_fds = -1;
  std::int64_t count = 0;
  if (fds_ && fds_->for_each_pid([&](int, std::string_view) { ++count; })) out.open_fds = count;
  return true;
}

}  // namespace perfkit
