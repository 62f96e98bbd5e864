#include "procfs/system.hpp"

#include "procfs/fields.hpp"

namespace procfs {

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  std::optional<std::uint64_t> total, available, sunreclaim;
  bool ok = true;
  for_each_field(text, [&](std::string_view key, std::string_view value) {
    std::optional<std::uint64_t>* field = key == "MemTotal"       ? &total
                                          : key == "MemAvailable" ? &available
                                          : key == "SUnreclaim"   ? &sunreclaim
                                                                  : nullptr;
    if (field == nullptr) return true;
    ok = !field->has_value() && (*field = parse_kib(value)).has_value();
    return ok;
  });
  if (!ok || !total || !available || !sunreclaim) return std::nullopt;
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
