#include "procfs/status.hpp"

#include <limits>

#include "procfs/fields.hpp"

namespace procfs {
namespace {

// A field read as 64 bits into a narrower one; false when it does not fit.
template <typename T>
bool narrow(const std::optional<std::uint64_t>& value, std::optional<T>& out) {
  if (!value) return true;
  if (*value > std::numeric_limits<T>::max()) return false;
  out = static_cast<T>(*value);
  return true;
}

}  // namespace

bool parse_status(std::string_view text, StatusFields& out) {
  out = StatusFields{};
  std::optional<std::uint64_t> uid, threads;
  const FieldSpec specs[] = {
      {"Uid", parse_first_u64, &uid},
      {"Threads", parse_u64, &threads},
      {"VmRSS", parse_kib, &out.vm_rss_bytes},
      {"VmHWM", parse_kib, &out.vm_hwm_bytes},
      {"voluntary_ctxt_switches", parse_u64, &out.voluntary_switches},
      {"nonvoluntary_ctxt_switches", parse_u64, &out.involuntary_switches},
  };
  return read_fields(text, specs) && narrow(uid, out.uid) && narrow(threads, out.threads);
}

}  // namespace procfs
