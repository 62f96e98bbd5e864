#include "wal/retention.hpp"

namespace procmond::wal {

std::size_t segments_to_remove(std::span<const SegmentUsage> closed, std::uint64_t active_bytes,
                               std::uint64_t retain_bytes, std::chrono::seconds retain_age,
                               std::filesystem::file_time_type now) {
  std::uint64_t total = active_bytes;
  for (const auto& s : closed) total += s.bytes;
  const auto oldest_kept = now - retain_age;
  std::size_t n = 0;
  while (n < closed.size() && (total > retain_bytes || closed[n].mtime < oldest_kept)) {
    total -= closed[n].bytes;
    ++n;
  }
  return n;
}

}  // namespace procmond::wal
