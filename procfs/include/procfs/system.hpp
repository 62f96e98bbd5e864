#pragma once
// Machine-wide files: /proc/meminfo and /proc/loadavg.

#include <cstdint>
#include <optional>
#include <string_view>

namespace procfs {

struct MemInfo {
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;
  std::uint64_t slab_unreclaimable_bytes = 0;
};

// nullopt when MemTotal, MemAvailable or SUnreclaim is missing or malformed.
std::optional<MemInfo> parse_meminfo(std::string_view text);

// Every task on the machine now: the N of "running/N", loadavg's 4th field.
std::optional<std::uint64_t> parse_loadavg_tasks(std::string_view text);

}  // namespace procfs
