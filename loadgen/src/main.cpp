// loadgen: parses arguments and hands the run to the library.

#include <CLI/CLI.hpp>
#include <iostream>

#include "procmon/duration_arg.hpp"
#include "run_command.hpp"

namespace {

int parse_and_run(int argc, char** argv) {
  CLI::App app{"loadgen: spawns synthetic processes in load profiles and tears them all down"};
  app.require_subcommand(1);

  loadgen::RunCommandOptions o;
  loadgen::ProfileOptions& p = o.run.profile;
  loadgen::KindOptions& k = o.run.kind_options;
  o.run.helper_path = loadgen::default_helper_path();
  std::string profile = "steady", kind = "sleep", spawner = "auto";
  bool quiet = false;

  auto* run = app.add_subcommand("run", "Run one load profile, then tear every child down");
  run->footer(
      "Durations: seconds (2, 0.5) or with a unit: 500ms, 2s, 1m, 1h.\n"
      "Measured: how late each start and stop was against the schedule (lag p50/p99/max).\n"
      "Overload: never more than the schedule's live count alive, the end when it ends; a start\n"
      "whose child's life (or the run) is over by the time loadgen gets to it is shed.\n"
      "Exit status: 0 every start asked was made; 1 refused by a limit, an error, some spawns\n"
      "failed or a tree made short; 2 bad arguments; 3 starts shed (loadgen fell behind: see\n"
      "the lag and shed counts); 128+N interrupted by signal N (children torn down, summary\n"
      "printed).\n"
      "Every child dies with loadgen, also on SIGKILL (PR_SET_PDEATHSIG).");
  run->add_option("--count,-n", p.count, "Children (live at once for churn; the peak for spike)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
      ->capture_default_str();
  run->add_option("--profile,-p", profile, "steady|burst|ramp|spike|churn")
      ->check(CLI::IsMember({"steady", "burst", "ramp", "spike", "churn"}))
      ->capture_default_str();
  run->add_option("--rate,-r", p.rate,
                  "Starts per second; 0 = as fast as possible (churn: the slots' first starts)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run->add_option("--duration,-d", p.duration_s,
                  "How long the load is held (steady, burst: after the last start; ramp: the "
                  "climb; spike: three equal parts; churn: the whole run)")
      ->transform(procmon::duration_arg())
      ->capture_default_str();
  run->add_option("--kind,-k", kind, "sleep|cpu|mem|tree|exec")
      ->check(CLI::IsMember({"sleep", "cpu", "mem", "tree", "exec"}))
      ->capture_default_str();
  run->add_option("--json", o.json_path, "Write the summary as JSON to FILE ('-' = stdout)");
  run->add_option("--ready-file", o.ready_file,
                  "Create FILE once the load first stands at --count live children (or every "
                  "start is done): the moment a harness may begin measuring");
  run->add_option("--spawner", spawner,
                  "clone (sleep only: clone(CLONE_VM), no exec), zygote (a forking helper), "
                  "spawn (posix_spawn of the helper per child), or auto: clone for sleep, "
                  "zygote otherwise")
      ->check(CLI::IsMember({"auto", "clone", "zygote", "spawn"}))
      ->capture_default_str();
  run->add_option("--helper", o.run.helper_path, "Path of loadgen-child")->capture_default_str();
  run->add_option("--cpu-share", k.cpu_share, "cpu: share of one core each child burns")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  // A sign would wrap to near 2^64 in the conversion to unsigned: refused first.
  run->add_option("--mem-bytes", k.mem_bytes,
                  "mem: bytes each child touches and holds (256KiB, 1MB, 2GiB: units of 1024)")
      ->check(CLI::Validator(
          [](std::string& s) {
            return s.find_first_of("-+") == std::string::npos ? std::string{}
                                                              : "'" + s + "' is not a size >= 0";
          },
          "BYTES"))
      ->transform(CLI::AsSizeValue(/*kb_is_1000=*/false))
      ->capture_default_str();
  run->add_option("--tree-depth", k.tree_depth, "tree: levels below each child")
      ->check(CLI::Range(0, 8))
      ->capture_default_str();
  run->add_option("--tree-fanout", k.tree_fanout, "tree: children per node")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  run->add_option("--burst-size", p.burst_size, "burst: children per group (0 = count/10)")
      ->capture_default_str();
  run->add_option("--burst-interval", p.burst_interval_s, "burst: time between groups")
      ->transform(procmon::duration_arg())
      ->capture_default_str();
  run->add_option("--spike-base", p.spike_base, "spike: children before and after (0 = count/10)")
      ->capture_default_str();
  run->add_option("--churn-life-min", p.churn_life_min_s, "churn: shortest life")
      ->transform(procmon::duration_arg(/*allow_zero=*/false))
      ->capture_default_str();
  run->add_option("--churn-life-max", p.churn_life_max_s, "churn: longest life")
      ->transform(procmon::duration_arg(/*allow_zero=*/false))
      ->capture_default_str();
  run->add_option("--seed", p.seed, "churn: seed of the lives")->capture_default_str();
  run->add_flag("--dry-run", o.dry_run, "Print the plan and check the limits; spawn nothing");
  run->add_flag("--quiet,-q", quiet, "No progress line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help: printed, exit 0
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line naming the flag and what it takes; --help for the rest.
    std::cerr << "loadgen: " << e.what() << " (loadgen run --help)\n";
    return 2;
  }
  if (p.churn_life_max_s < p.churn_life_min_s) {
    std::cerr << "loadgen: --churn-life-max must be at least --churn-life-min\n" << run->help();
    return 2;
  }
  p.profile = loadgen::parse_profile(profile);
  o.run.kind = loadgen::parse_kind(kind);
  o.run.spawn_path = loadgen::parse_spawn_path(spawner);
  if (o.run.spawn_path == loadgen::SpawnPath::kClone && o.run.kind != loadgen::Kind::kSleep) {
    std::cerr << "loadgen: --spawner clone serves the sleep kind only\n" << run->help();
    return 2;
  }
  o.progress = !quiet;
  return loadgen::run_command(o, std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return parse_and_run(argc, argv);
  } catch (const std::exception& e) {  // whatever escaped: one line, never std::terminate
    std::cerr << "loadgen: " << e.what() << '\n';
    return 1;
  }
}
