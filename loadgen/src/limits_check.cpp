#include "limits_check.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include "procfs/fields.hpp"
#include "procfs/pid_directory.hpp"
#include "procfs/read.hpp"
#include "procfs/status.hpp"
#include "procfs/system.hpp"

namespace loadgen {
namespace {

// A whole file (/proc/sys values, meminfo, loadavg); "" when unreadable,
// which no parser below accepts.
std::string slurp(const char* path) {
  return procfs::read_path(path).value_or("");
}

// A value that cannot be read is an error (check_limits refuses), never a 0
// that would skip its check.
template <typename T>
T or_throw(std::optional<T> value, const char* path) {
  if (!value) throw std::runtime_error("cannot read or parse " + std::string(path));
  return *value;
}

std::uint64_t read_number(const char* path) {
  std::string text = slurp(path);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return or_throw(procfs::parse_u64(text), path);
}

// Processes of our real uid, as RLIMIT_NPROC counts them (threads included).
std::uint64_t tasks_of_uid(uid_t uid) {
  std::uint64_t n = 0;
  procmon::UniqueFd proc = procfs::open_at(AT_FDCWD, "/proc", O_DIRECTORY);
  if (!proc) throw std::runtime_error("cannot list /proc");
  procfs::PidDirectory pids(proc.get());
  procfs::SmallFileBuffer buf;
  procfs::StatusFields status;
  pids.for_each_pid([&](int, std::string_view name) {
    auto text = procfs::read_at(proc.get(), procfs::PidPath(name, "status").c_str(), buf);
    if (text && procfs::parse_status(*text, status) && status.uid == uid)
      n += status.threads.value_or(1);
  });
  return n;
}

std::string fmt_cores(double cores) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", cores);
  return buf;
}

// Saturated arithmetic: a demand near 2^64 must stay too big, never wrap to small.
std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

SystemLimits read_system_limits() {
  SystemLimits l;
  l.pid_max = read_number("/proc/sys/kernel/pid_max");
  l.threads_max = read_number("/proc/sys/kernel/threads-max");
  // procs_running/blocked count only runnable tasks; /proc/loadavg's 4th field
  // "running/total" gives every task on the machine.
  l.tasks_now = or_throw(procfs::parse_loadavg_tasks(slurp("/proc/loadavg")), "/proc/loadavg");
  rlimit r{};
  // Root (CAP_SYS_ADMIN / CAP_SYS_RESOURCE) is exempt from RLIMIT_NPROC.
  if (::getuid() != 0 && ::getrlimit(RLIMIT_NPROC, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
    l.nproc = r.rlim_cur;
    l.nproc_used = tasks_of_uid(::getuid());
  }
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0) l.fd_limit = r.rlim_cur;
  l.mem_available =
      or_throw(procfs::parse_meminfo(slurp("/proc/meminfo")), "/proc/meminfo").available_bytes;
  l.cpus = static_cast<std::uint64_t>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  return l;
}

std::vector<std::string> check_limits(const SystemLimits& l, const Demand& d) {
  std::vector<std::string> out;
  const std::uint64_t want = d.processes;
  const std::uint64_t total = sat_add(l.tasks_now, want);
  if (l.pid_max && total > l.pid_max)
    out.push_back("kernel.pid_max is " + std::to_string(l.pid_max) + " and " +
                  std::to_string(l.tasks_now) + " tasks exist; " + std::to_string(want) +
                  " more do not fit. Raise it: sysctl -w kernel.pid_max=4194304");
  if (l.threads_max && total > l.threads_max)
    out.push_back("kernel.threads-max is " + std::to_string(l.threads_max) + " and " +
                  std::to_string(l.tasks_now) + " tasks exist; " + std::to_string(want) +
                  " more do not fit. Raise it: sysctl -w kernel.threads-max=" +
                  std::to_string(sat_mul(total, 2)));
  if (l.nproc && sat_add(l.nproc_used, want) > *l.nproc)
    out.push_back("RLIMIT_NPROC (ulimit -u) is " + std::to_string(*l.nproc) +
                  " and this user has " + std::to_string(l.nproc_used) + " tasks; " +
                  std::to_string(want) + " more do not fit. Raise it: ulimit -u " +
                  std::to_string(sat_add(sat_add(l.nproc_used, want), 64)) +
                  " (the hard limit is in /etc/security/limits.conf)");
  if (l.fd_limit && d.fds > l.fd_limit)
    out.push_back("RLIMIT_NOFILE (ulimit -n) is " + std::to_string(l.fd_limit) +
                  "; loadgen needs " + std::to_string(d.fds) + ". Raise it: ulimit -n " +
                  std::to_string(d.fds));
  const std::uint64_t bytes = sat_mul(want, d.bytes_each);
  if (l.mem_available && bytes > l.mem_available)
    out.push_back(std::to_string(want) + " children need about " + mib(bytes) + " but " +
                  "MemAvailable is " + mib(l.mem_available) +
                  ". Ask for fewer children or less memory each (--mem-bytes), or free memory");
  // Children that cannot get the share asked do not make the load asked, and
  // thousands of them starve everything else (10,000 at 1 % on 2 cores once
  // took half an hour to spawn and a minute to tear down).
  if (l.cpus && d.cpu_cores > static_cast<double>(l.cpus))
    out.push_back(std::to_string(want) + " children ask " + fmt_cores(d.cpu_cores) +
                  " cores of burn and this machine has " + std::to_string(l.cpus) +
                  " online. Lower --cpu-share or --count");
  return out;
}

std::vector<std::string> check_limits(const std::function<SystemLimits()>& read,
                                      const Demand& demand) {
  SystemLimits limits;
  try {
    limits = read();
  } catch (const std::exception& e) {
    // A value that cannot be read or parsed is a refusal, not a crash.
    return {std::string("the system's limits could not be read (") + e.what() +
            "), so nothing is spawned"};
  }
  return check_limits(limits, demand);
}

}  // namespace loadgen
