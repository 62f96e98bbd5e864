#pragma once
// `procmondctl events`: follows the daemon's stream, one line per event.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace procmond {

struct EventsOptions {
  std::filesystem::path socket;
  std::optional<std::uint64_t> from;  // 0: the oldest event the WAL holds
  std::vector<std::string> kinds;
  std::optional<std::uint32_t> uid;
  std::string comm_prefix;
  bool json = false;
  std::uint64_t count = 0;  // stop after this many events (0: follow)
};

// Exit status: 0 the count was reached or the daemon stopped; 1 cannot
// connect, or the connection was lost or refused; 3 dropped as too slow
// (the line on `err` says the --from to resume with).
int run_events_command(const EventsOptions& options, std::ostream& out, std::ostream& err);

}  // namespace procmond
