#include "events/event.hpp"

namespace procmond {

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::kSnapshot:
      return "snapshot";
    case EventKind::kStarted:
      return "started";
    case EventKind::kExited:
      return "exited";
    case EventKind::kChanged:
      return "changed";
    case EventKind::kSynthetic:
      return "synthetic";
  }
  return "unknown";
}

const char* to_string(EventSource source) {
  switch (source) {
    case EventSource::kPoll:
      return "poll";
    case EventSource::kConnector:
      return "connector";
    case EventSource::kSynthetic:
      return "synthetic";
  }
  return "unknown";
}

}  // namespace procmond
