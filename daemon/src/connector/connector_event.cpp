#include "connector/connector_event.hpp"

#include <ctime>

namespace procmond {

const char* to_string(ConnectorEvent::Kind kind) {
  switch (kind) {
    case ConnectorEvent::Kind::kFork:
      return "fork";
    case ConnectorEvent::Kind::kExec:
      return "exec";
    case ConnectorEvent::Kind::kExit:
      return "exit";
  }
  return "?";
}

std::uint64_t monotonic_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace procmond
