#include "procfs/system.hpp"

#include "procfs/fields.hpp"

namespace procfs {

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  std::optional<std::uint64_t> total, available, sunreclaim;
  const FieldSpec specs[] = {{"MemTotal", parse_kib, &total},
                             {"MemAvailable", parse_kib, &available},
                             {"SUnreclaim", parse_kib, &sunreclaim}};
  if (!read_fields(text, specs) || !total || !available || !sunreclaim) return std::nullopt;
  return MemInfo{.total_bytes = *total,
                 .available_bytes = *available,
                 .slab_unreclaimable_bytes = *sunreclaim};
}

std::optional<std::uint64_t> parse_loadavg_tasks(std::string_view text) {
  // "0.00 0.01 0.05 1/234 5678": the word after the third space.
  for (int i = 0; i < 3; ++i) {
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    text.remove_prefix(space + 1);
  }
  const std::string_view word = first_word(text);
  const std::size_t slash = word.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return parse_u64(word.substr(slash + 1));
}

}  // namespace procfs
