#include "wal/segment_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace procmond::wal {
namespace {
constexpr std::string_view kPrefix = "wal-";
constexpr std::string_view kSuffix = ".log";
constexpr std::size_t kDigits = 20;  // every u64 fits, and names sort as numbers
}  // namespace

std::string segment_file_name(std::uint64_t first_seq) {
  return fmt::format("{}{:020}{}", kPrefix, first_seq, kSuffix);
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != kPrefix.size() + kDigits + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix))
    return std::nullopt;
  const std::string_view digits = name.substr(kPrefix.size(), kDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t seq = 0;
  const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (err != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return seq;
}

std::vector<SegmentFile> list_segments(const std::filesystem::path& dir, std::error_code& ec) {
  std::vector<SegmentFile> out;
  ec.clear();
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (auto seq = parse_segment_file_name(it->path().filename().native()))
      out.push_back({*seq, it->path()});
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_seq < b.first_seq; });
  return out;
}

}  // namespace procmond::wal
