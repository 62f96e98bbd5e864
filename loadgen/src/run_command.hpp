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

// The exit code of a run that happened: 128 + signal when interrupted, 1 when
// some spawns failed (or a tree was made short), 3 when starts were shed (loadgen could not keep
// up), 0 when every start asked was made.
int exit_status(const Summary& summary);

// Returns the exit code: exit_status() of the run, 1 refused (or any error,
// said in one line on `err`), 2 options no schedule can follow. The summary is
// printed all the same when interrupted.
int run_command(const RunCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace loadgen
