// procmond: parses arguments and hands each subcommand to the library.

#include <CLI/CLI.hpp>
#include <iostream>

#include "procmon/duration_arg.hpp"
#include "procmon/fd_limit.hpp"
#include "run/run_command.hpp"
#include "snapshot_command.hpp"

namespace {

const char* const kCollectorHelp =
    "How processes are read: bpf (one BPF task iterator for all: root, or CAP_BPF with "
    "CAP_PERFMON), proc (a /proc file per process), auto (bpf where it loads, else proc, "
    "saying why)";

// `procmond run`'s flags: each one given overrides the config file.
struct RunFlags {
  std::string config, socket, data_dir, interval, max_interval, stall_after, wal_sync, connector,
      collector, proc_root;
  std::uint64_t queue = 0, high_mark = 0, low_mark = 0, max_cmdline = 0;
  std::uint64_t synthetic_events = 0;
  double synthetic_rate = 0;
};

CLI::App* add_run(CLI::App& app, RunFlags& f) {
  auto* run = app.add_subcommand(
      "run", "Run the daemon in the foreground: events to the WAL and to subscribers");
  run->add_option("--config", f.config, "A TOML file (see daemon/procmond.toml); flags override it")
      ->check(CLI::ExistingFile);
  run->add_option("--socket", f.socket, "The Unix socket clients connect to")
      ->default_str(procmond::default_socket_path().string());
  run->add_option("--data-dir", f.data_dir, "Where the WAL lives (locked: one daemon per dir)")
      ->default_str(procmond::default_data_dir().string());
  run->add_option("--interval", f.interval, "Time between /proc cycles (1s, 500ms)")
      ->check(procmon::duration_arg(false))
      ->default_str("1s");
  run->add_option("--max-interval", f.max_interval, "The most backpressure stretches it to")
      ->check(procmon::duration_arg(false))
      ->default_str("8s");
  run->add_option("--stall-after", f.stall_after,
                  "A subscriber with events waiting that reads none this long stretches it too")
      ->check(procmon::duration_arg(false))
      ->default_str("50ms");
  run->add_option("--wal-sync", f.wal_sync,
                  "always: fsync each event; batch: one fsync per group of events; never")
      ->check(CLI::IsMember({"always", "batch", "never"}))
      ->default_str("batch");
  run->add_option("--connector", f.connector,
                  "The kernel's netlink proc connector (root or CAP_NET_ADMIN): auto uses it "
                  "where allowed, on requires it")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->default_str("auto");
  run->add_option("--collector", f.collector, kCollectorHelp)
      ->check(CLI::IsMember({"auto", "bpf", "proc"}))
      ->default_str("auto");
  run->add_option("--queue", f.queue, "Bytes a subscriber's queue may hold before it is dropped")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("16MiB");
  run->add_option("--high-mark", f.high_mark, "Fullest queue above this stretches the interval")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("1MiB");
  run->add_option("--low-mark", f.low_mark, "Fullest queue below this restores it")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("256KiB");
  run->add_option("--proc-root", f.proc_root, "Where procfs is mounted")->default_str("/proc");
  run->add_option("--max-cmdline", f.max_cmdline, "Most bytes of each command line kept")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("4KiB");
  run->add_option("--synthetic-events", f.synthetic_events,
                  "Benchmarks: also make N synthetic events, through the WAL to subscribers");
  run->add_option("--synthetic-rate", f.synthetic_rate,
                  "Benchmarks: synthetic events per second, whatever the subscribers do (0: as "
                  "fast as the pipeline takes, held back by backpressure)")
      ->check(CLI::NonNegativeNumber);
  run->footer(
      "Runs until SIGTERM or SIGINT: the last batch is written and synced, subscribers are told,\n"
      "exit 0. Exit 1: it could not start (another daemon holds the socket or data directory,\n"
      "a directory cannot be written, a bad config file), said in one line. 2: bad arguments.");
  return run;
}

// Defaults, then the file, then each flag given.
procmond::RunConfig run_config(const CLI::App& run, const RunFlags& f) {
  procmond::RunConfig c = procmond::default_run_config();
  if (!f.config.empty()) procmond::load_config_file(f.config, c);
  auto given = [&](const char* name) { return run.get_option(name)->count() > 0; };
  if (given("--socket")) c.socket = f.socket;
  if (given("--data-dir")) c.data_dir = f.data_dir;
  if (given("--interval")) c.interval = procmond::parse_duration(f.interval);
  if (given("--max-interval")) c.max_interval = procmond::parse_duration(f.max_interval);
  if (given("--stall-after")) c.stall_after = procmond::parse_duration(f.stall_after);
  if (given("--wal-sync")) c.wal_sync = f.wal_sync;
  if (given("--connector"))
    c.connector = f.connector == "on"    ? procmond::ConnectorMode::kOn
                  : f.connector == "off" ? procmond::ConnectorMode::kOff
                                         : procmond::ConnectorMode::kAuto;
  if (given("--collector")) c.collector = *procmond::parse_collector_kind(f.collector);
  if (given("--queue")) c.queue_bytes = f.queue;
  if (given("--high-mark")) c.high_mark = f.high_mark;
  if (given("--low-mark")) c.low_mark = f.low_mark;
  if (given("--proc-root")) c.proc_root = f.proc_root;
  if (given("--max-cmdline")) c.max_cmdline_bytes = f.max_cmdline;
  c.synthetic_events = f.synthetic_events;
  c.synthetic_rate = f.synthetic_rate;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  // Held mode keeps one fd per process: the default soft limit (1,024) would
  // leave most of a busy host to the slower plain reads.
  procmon::raise_fd_limit();
  CLI::App app{"procmond: a lean process-monitoring daemon"};
  app.require_subcommand(1);

  procmond::SnapshotCommandOptions snapshot;
  auto* snap = app.add_subcommand("snapshot", "Print every process once and exit");
  snap->add_flag("--json", snapshot.json, "JSON for programs instead of a table");
  std::string snapshot_collector = "auto";
  snap->add_option("--collector", snapshot_collector,
                   std::string(kCollectorHelp) + " (--json: \"collector\", \"collector_fallback\")")
      ->check(CLI::IsMember({"auto", "bpf", "proc"}))
      ->capture_default_str();
  snap->add_option("--proc-root", snapshot.proc_root,
                   "Where procfs is mounted (another root than /proc means the proc collector)")
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

  RunFlags run_flags;
  auto* run = add_run(app, run_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is 0; bad arguments are 2
  }

  if (*run) {
    procmond::RunConfig config;
    try {
      config = run_config(*run, run_flags);
    } catch (const std::exception& e) {
      std::cerr << "procmond: " << e.what() << std::endl;
      return 1;
    }
    return procmond::run_daemon(config, std::cerr);
  }
  if (*snap) {
    snapshot.collector = *procmond::parse_collector_kind(snapshot_collector);
    return procmond::run_snapshot_command(snapshot, std::cout, std::cerr);
  }
  return 2;
}
