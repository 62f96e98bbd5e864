#pragma once
// Naming and listing the segment files of a WAL directory.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace procmond::wal {

struct SegmentFile {
  std::uint64_t first_seq = 0;  // from the name: a lower bound of its records' seqs
  std::filesystem::path path;
};

// "wal-00000000000000000042.log"
std::string segment_file_name(std::uint64_t first_seq);
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

// The segments in `dir`, oldest first; other files are ignored. Sets `ec`
// (and returns what it has) when the directory cannot be listed.
std::vector<SegmentFile> list_segments(const std::filesystem::path& dir, std::error_code& ec);

}  // namespace procmond::wal
