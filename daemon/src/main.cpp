// procmond: parses arguments and hands each subcommand to the library.

#include <CLI/CLI.hpp>
#include <iostream>

#include "procmon/fd_limit.hpp"
#include "snapshot_command.hpp"

int main(int argc, char** argv) {
  // Held mode keeps one fd per process: the default soft limit (1,024) would
  // leave most of a busy host to the slower plain reads.
  procmon::raise_fd_limit();
  CLI::App app{"procmond: a lean process-monitoring daemon"};
  app.require_subcommand(1);

  procmond::SnapshotCommandOptions snapshot;
  auto* snap = app.add_subcommand("snapshot", "Print every process once and exit");
  snap->add_flag("--json", snapshot.json, "JSON for programs instead of a table");
  snap->add_option("--proc-root", snapshot.proc_root, "Where procfs is mounted")
      ->capture_default_str();
  snap->add_option("--max-cmdline", snapshot.max_cmdline_bytes,
                   "Most bytes of each command line read (e.g. 4096, 64KiB); a longer one is "
                   "cut and flagged")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  snap->footer(
      "Exit status: 0 printed; 1 the output could not be written; 2 bad arguments;\n"
      "3 /proc could not be read at all. Processes that could not be read are counted\n"
      "in the JSON (\"errors\") and said on stderr.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is 0; bad arguments are 2
  }

  if (*snap) return procmond::run_snapshot_command(snapshot, std::cout, std::cerr);
  return 2;
}
