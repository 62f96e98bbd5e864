#pragma once
// Which old segments retention removes: a pure choice, kept apart from the
// unlinking so that it can be tested without files.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace procmond::wal {

struct SegmentUsage {
  std::uint64_t bytes = 0;
  std::filesystem::file_time_type mtime;  // its last write: its newest record
};

// How many of the oldest `closed` segments (oldest first; the active segment
// is never among them) to remove so that the log, `active_bytes` included,
// holds at most `retain_bytes` and nothing last written before now - `retain_age`.
// Only a prefix is removed: the log stays contiguous for readers.
std::size_t segments_to_remove(std::span<const SegmentUsage> closed, std::uint64_t active_bytes,
                               std::uint64_t retain_bytes, std::chrono::seconds retain_age,
                               std::filesystem::file_time_type now);

}  // namespace procmond::wal
