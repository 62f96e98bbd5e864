#pragma once
// Checks, before anything is spawned, that the machine can hold what was asked,
// and says which limit is in the way, its value, and how to raise it.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace loadgen {

struct SystemLimits {
  std::uint64_t pid_max = 0;           // /proc/sys/kernel/pid_max
  std::uint64_t threads_max = 0;       // /proc/sys/kernel/threads-max
  std::uint64_t tasks_now = 0;         // threads alive on the machine now
  std::optional<std::uint64_t> nproc;  // RLIMIT_NPROC soft; nullopt = unlimited or exempt (root)
  std::uint64_t nproc_used = 0;        // our user's processes now
  std::uint64_t fd_limit = 0;          // RLIMIT_NOFILE soft
  std::uint64_t mem_available = 0;     // MemAvailable, bytes
  std::uint64_t cpus = 0;              // online CPUs
};

struct Demand {
  std::uint64_t processes = 0;   // most children alive at once (tree: every node)
  std::uint64_t fds = 0;         // fds loadgen needs, whatever the count (none per child)
  std::uint64_t bytes_each = 0;  // memory per child, kernel's and the child's own
  double cpu_cores = 0;          // cores of burn all children ask at once (cpu kind)
};

// Reads the limits of this machine and user.
SystemLimits read_system_limits();

// One message per limit in the way; empty when all fit.
std::vector<std::string> check_limits(const SystemLimits& limits, const Demand& demand);
// The same with the limits read by `read` (read_system_limits); a read or a
// value that fails is one refusal, not an exception.
std::vector<std::string> check_limits(const std::function<SystemLimits()>& read,
                                      const Demand& demand);

}  // namespace loadgen
