// procmondctl: the client of procmond's socket. Parses arguments and hands
// each subcommand to the library.

#include <CLI/CLI.hpp>
#include <iostream>

#include "client.hpp"
#include "events_command.hpp"
#include "run/run_config.hpp"

int main(int argc, char** argv) {
  CLI::App app{"procmondctl: the client of procmond"};
  app.require_subcommand(1);
  std::string socket = procmond::default_socket_path().string();
  app.add_option("--socket", socket, "procmond's socket")->capture_default_str();

  procmond::EventsOptions events;
  std::uint64_t from = 0;
  std::uint32_t uid = 0;
  auto* ev = app.add_subcommand("events", "Follow the event stream, one line per event");
  auto* from_opt = ev->add_option("--from", from,
                                  "Start at this sequence number, from the WAL, then live "
                                  "(0: the oldest held); without it, live events only");
  ev->add_option("--kind", events.kinds, "Only these kinds (snapshot,started,exited,changed)")
      ->delimiter(',')
      ->check(CLI::IsMember({"snapshot", "started", "exited", "changed", "synthetic"}));
  auto* uid_opt = ev->add_option("--uid", uid, "Only processes of this real uid");
  ev->add_option("--comm-prefix", events.comm_prefix, "Only processes whose comm starts so");
  ev->add_flag("--json", events.json,
               "One JSON object per line: seq, time, kind, pid, then the process fields");
  ev->add_option("--count", events.count, "Stop after N events");
  ev->footer(
      "Exit status: 0 --count reached or procmond stopped; 1 cannot connect or the\n"
      "connection was lost; 3 dropped as too slow (stderr says the --from to resume with).");

  auto* st = app.add_subcommand("status", "Print the daemon's status as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*ev) {
    events.socket = socket;
    if (from_opt->count()) events.from = from;
    if (uid_opt->count()) events.uid = uid;
    return procmond::run_events_command(events, std::cout, std::cerr);
  }
  if (*st) {
    try {
      std::cout << procmond::fetch_status(socket).dump(2) << std::endl;
      return 0;
    } catch (const std::exception& e) {
      std::cerr << "procmondctl: " << e.what() << std::endl;
      return 1;
    }
  }
  return 2;
}
