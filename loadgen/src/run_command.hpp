#pragma once
// `loadgen run`: checks the limits, runs the load with signals handled and
// progress shown, then prints the summary and writes it as JSON.

#include <ostream>
#include <string>

#include "load_runner.hpp"

namespace loadgen {

struct RunCommandOptions {
  RunOptions run;
  std::string json_path;  // "" = none, "-" = stdout
  // Created once the load first stands at its full count (or every start is
  // done), so a harness knows when to begin measuring.
  std::string ready_file;
  bool dry_run = false;  // print the plan and the limits check, spawn nothing
  bool progress = true;
};

// Where loadgen-child lives: beside the running binary.
std::string default_helper_path();

// Returns the exit code: 0 all spawned, 1 refused or some spawns failed,
// 128 + signal when interrupted (the summary is printed all the same).
int run_command(const RunCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace loadgen
