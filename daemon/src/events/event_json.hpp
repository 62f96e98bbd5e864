#pragma once
// The JSON form of one Event, for `procmondctl events --json` and the like.

#include <nlohmann/json.hpp>

#include "events/event.hpp"

namespace procmond {

// Keys as in EVENT_FORMAT.md ("JSON"). Every string is valid UTF-8 (invalid
// bytes a process put in its comm, exe or argv become U+FFFD), so dump()
// never throws on it.
nlohmann::json to_json(const Event& event);

}  // namespace procmond
