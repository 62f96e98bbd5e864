#include "procfs/smaps_rollup.hpp"

#include <array>
#include <string_view>

#include "procfs/fields.hpp"

namespace procfs {

std::optional<SmapsRollup> parse_smaps_rollup(std::string_view text) {
  SmapsRollup out;
  struct Wanted {
    std::string_view key;
    std::uint64_t* field;
    bool seen = false;
  };
  std::array<Wanted, 5> wanted{{{"Rss", &out.rss_bytes},
                                {"Pss", &out.pss_bytes},
                                {"Private_Clean", &out.private_clean_bytes},
                                {"Private_Dirty", &out.private_dirty_bytes},
                                {"Swap", &out.swap_bytes}}};
  bool ok = true;
  for_each_field(text, [&](std::string_view key, std::string_view value) {
    for (Wanted& w : wanted) {
      if (key != w.key) continue;
      auto bytes = parse_kib(value);
      ok = !w.seen && bytes.has_value();
      w.seen = true;
      if (ok) *w.field = *bytes;
      break;
    }
    return ok;
  });
  for (const Wanted& w : wanted) ok = ok && w.seen;
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace procfs
