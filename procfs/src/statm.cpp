#include "procfs/statm.hpp"

#include <array>

#include "procfs/fields.hpp"

namespace procfs {

std::optional<Statm> parse_statm(std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  std::array<std::uint64_t, 7> pages{};
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const std::size_t space = text.find(' ');
    if ((space == std::string_view::npos) != (i + 1 == pages.size())) return std::nullopt;
    auto v = parse_u64(text.substr(0, space));
    if (!v) return std::nullopt;
    pages[i] = *v;
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
  }
  return Statm{.size_pages = pages[0], .resident_pages = pages[1], .shared_pages = pages[2]};
}

}  // namespace procfs
