#pragma once
// Runs a schedule: spawns each child when due, stops it when due, reaps every
// child (loadgen is a child subreaper, so grandchildren too), and tears all
// down at the end or when asked to stop. It measures what it delivered: how
// late each start and stop was against the schedule. Asked more than it can
// start, it keeps the promises that protect the machine: never more children
// alive than the schedule's peak, the end when the schedule ends, and the
// starts it could not make in time shed and counted.

#include <csignal>
#include <functional>
#include <string>

#include "run_options.hpp"
#include "schedule.hpp"
#include "summary.hpp"

namespace loadgen {

struct Progress {
  double elapsed_s;
  std::uint64_t spawned, live, failed, shed;
  bool every_start_done;  // the schedule has no start left
  double start_lag_max_ms;
  pid_t group;  // the process group every child of the run is in
};

// Runs until the schedule ends or *stop becomes non-zero (the signal number),
// consuming `schedule`. `progress` is called about four times a second.
Summary run_load(const RunOptions& options, Schedule& schedule,
                 const volatile std::sig_atomic_t* stop,
                 const std::function<void(const Progress&)>& progress);

}  // namespace loadgen
