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

#include "limits_check.hpp"
#include "schedule.hpp"
#include "summary.hpp"

namespace loadgen {

enum class Kind { kSleep, kCpu, kMem, kTree, kExec };
// auto: clone for sleep, zygote otherwise. spawn: posix_spawn per child.
enum class SpawnPath { kAuto, kClone, kZygote, kSpawn };

struct KindOptions {
  double cpu_share = 0.01;            // cpu: share of one core per child
  std::uint64_t mem_bytes = 1 << 20;  // mem: bytes touched per child
  int tree_depth = 2;                 // tree: levels below each child
  int tree_fanout = 2;                // tree: children per node
};

struct RunOptions {
  ProfileOptions profile;
  Kind kind = Kind::kSleep;
  KindOptions kind_options;
  SpawnPath spawn_path = SpawnPath::kAuto;
  std::string helper_path;  // loadgen-child
};

struct Progress {
  double elapsed_s;
  std::uint64_t spawned, live, failed, shed;
  bool every_start_done;  // the schedule has no start left
  double start_lag_max_ms;
  pid_t group;  // the process group every child of the run is in
};

Kind parse_kind(const std::string& name);  // throws std::invalid_argument
const char* to_string(Kind kind);

// The path a run takes, auto resolved.
SpawnPath spawn_path_of(const RunOptions& options);
bool uses_clone(const RunOptions& options);
SpawnPath parse_spawn_path(const std::string& name);  // throws std::invalid_argument
const char* to_string(SpawnPath path);

// Processes per scheduled child (a tree's every node) and memory each.
Demand demand_of(const RunOptions& options, const Schedule& schedule);

// Runs until the schedule ends or *stop becomes non-zero (the signal number),
// consuming `schedule`. `progress` is called about four times a second.
Summary run_load(const RunOptions& options, Schedule& schedule,
                 const volatile std::sig_atomic_t* stop,
                 const std::function<void(const Progress&)>& progress);

}  // namespace loadgen
