#include "procfs/status.hpp"

#include <limits>

#include "procfs/fields.hpp"

namespace procfs {
namespace {

// Sets `field` once from `parsed`; false on a repeat or a value that did not parse.
template <typename T>
bool set_once(std::optional<T>& field, std::optional<std::uint64_t> parsed) {
  if (field || !parsed || *parsed > std::numeric_limits<T>::max()) return false;
  field = static_cast<T>(*parsed);
  return true;
}

}  // namespace

bool parse_status(std::string_view text, StatusFields& out) {
  out = StatusFields{};
  bool ok = true;
  for_each_field(text, [&](std::string_view key, std::string_view value) {
    if (key == "Uid")
      ok = set_once(out.uid, parse_u64(first_word(value)));
    else if (key == "Threads")
      ok = set_once(out.threads, parse_u64(value));
    else if (key == "VmRSS")
      ok = set_once(out.vm_rss_bytes, parse_kib(value));
    else if (key == "VmHWM")
      ok = set_once(out.vm_hwm_bytes, parse_kib(value));
    else if (key == "voluntary_ctxt_switches")
      ok = set_once(out.voluntary_switches, parse_u64(value));
    else if (key == "nonvoluntary_ctxt_switches")
      ok = set_once(out.involuntary_switches, parse_u64(value));
    return ok;
  });
  return ok;
}

}  // namespace procfs
