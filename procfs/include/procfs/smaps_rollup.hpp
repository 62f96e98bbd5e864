#pragma once
// /proc/PID/smaps_rollup: one process's memory summed over its mappings,
// including PSS (each shared page split among its users). Empty for a zombie
// or a kernel thread.

#include <cstdint>
#include <optional>
#include <string_view>

namespace procfs {

struct SmapsRollup {
  std::uint64_t rss_bytes = 0;
  std::uint64_t pss_bytes = 0;
  std::uint64_t private_clean_bytes = 0;
  std::uint64_t private_dirty_bytes = 0;
  std::uint64_t swap_bytes = 0;
  // USS: what this process alone holds.
  std::uint64_t uss_bytes() const { return private_clean_bytes + private_dirty_bytes; }
};

// nullopt when Rss, Pss, Private_Clean, Private_Dirty or Swap is missing,
// repeated or not a number of kB.
std::optional<SmapsRollup> parse_smaps_rollup(std::string_view text);

}  // namespace procfs
