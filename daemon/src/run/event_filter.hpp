#pragma once
// What a subscriber asked to see: kinds, one uid, a comm prefix. Checked per
// event on the daemon's side, so a narrow subscriber costs little bandwidth.

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "events/event.hpp"

namespace procmond {

struct EventFilter {
  std::uint32_t kinds = ~0u;  // bit (1 << kind)
  std::optional<uid_t> uid;
  std::string comm_prefix;

  bool matches(EventKind kind, uid_t event_uid, std::string_view comm) const {
    if (!(kinds & (1u << static_cast<unsigned>(kind)))) return false;
    if (uid && *uid != event_uid) return false;
    return comm.substr(0, comm_prefix.size()) == comm_prefix;
  }
  bool everything() const { return kinds == ~0u && !uid && comm_prefix.empty(); }

  // From a subscribe request's "kinds", "uid" and "comm_prefix"; throws
  // std::invalid_argument naming what is wrong.
  static EventFilter from_request(const nlohmann::json& request);
};

// "started" -> EventKind::kStarted; nullopt for a name that is none.
std::optional<EventKind> parse_event_kind(std::string_view name);

}  // namespace procmond
