#pragma once
// A stretch of a segment that did not hold whole records: what recovery and
// readers report (and skip) instead of failing.

#include <cstdint>
#include <filesystem>
#include <string>

namespace procmond::wal {

struct Corruption {
  std::filesystem::path segment;
  std::uint64_t offset = 0;  // from the start of the file
  std::uint64_t bytes = 0;   // skipped
  std::string why;
};

}  // namespace procmond::wal
