#include "procfs/smaps_rollup.hpp"

#include "procfs/fields.hpp"

namespace procfs {

std::optional<SmapsRollup> parse_smaps_rollup(std::string_view text) {
  std::optional<std::uint64_t> rss, pss, private_clean, private_dirty, swap;
  const FieldSpec specs[] = {{"Rss", parse_kib, &rss},
                             {"Pss", parse_kib, &pss},
                             {"Private_Clean", parse_kib, &private_clean},
                             {"Private_Dirty", parse_kib, &private_dirty},
                             {"Swap", parse_kib, &swap}};
  if (!read_fields(text, specs) || !rss || !pss || !private_clean || !private_dirty || !swap)
    return std::nullopt;
  return SmapsRollup{.rss_bytes = *rss,
                     .pss_bytes = *pss,
                     .private_clean_bytes = *private_clean,
                     .private_dirty_bytes = *private_dirty,
                     .swap_bytes = *swap};
}

}  // namespace procfs
