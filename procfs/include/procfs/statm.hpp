#pragma once
// /proc/PID/statm: seven page counts on one line. Its resident count sums the
// kernel's per-CPU counters exactly (stat's rss does not).

#include <cstdint>
#include <optional>
#include <string_view>

namespace procfs {

struct Statm {
  std::uint64_t size_pages = 0;  // 0 for a zombie or a kernel thread: no memory
  std::uint64_t resident_pages = 0;
  std::uint64_t shared_pages = 0;
};

// nullopt unless the text is exactly seven numbers separated by single spaces.
std::optional<Statm> parse_statm(std::string_view text);

}  // namespace procfs
