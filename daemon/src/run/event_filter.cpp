#include "event_filter.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace procmond {

std::optional<EventKind> parse_event_kind(std::string_view name) {
  for (auto k : {EventKind::kSnapshot, EventKind::kStarted, EventKind::kExited, EventKind::kChanged,
                 EventKind::kSynthetic})
    if (name == to_string(k)) return k;
  return std::nullopt;
}

EventFilter EventFilter::from_request(const nlohmann::json& r) {
  EventFilter f;
  if (auto it = r.find("kinds"); it != r.end() && !it->is_null()) {
    if (!it->is_array()) throw std::invalid_argument("kinds: expected an array of names");
    f.kinds = 0;
    for (const auto& k : *it) {
      auto kind = k.is_string() ? parse_event_kind(k.get<std::string>()) : std::nullopt;
      if (!kind)
        throw std::invalid_argument("kinds: " + k.dump() +
                                    " is not one of snapshot, started, exited, changed, synthetic");
      f.kinds |= 1u << static_cast<unsigned>(*kind);
    }
  }
  if (auto it = r.find("uid"); it != r.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
        it->get<std::int64_t>() > 0xffffffff)
      throw std::invalid_argument("uid: expected a whole number");
    f.uid = it->get<uid_t>();
  }
  if (auto it = r.find("comm_prefix"); it != r.end() && !it->is_null()) {
    if (!it->is_string()) throw std::invalid_argument("comm_prefix: expected a string");
    f.comm_prefix = it->get<std::string>();
  }
  return f;
}

}  // namespace procmond
