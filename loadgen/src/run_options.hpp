#pragma once
// What a run is asked to make: the profile, the kind of child, the path that
// spawns it; and what follows from them alone (names, the spawner, the demand
// on the machine), before any process exists.

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "limits_check.hpp"
#include "schedule.hpp"
#include "spawner.hpp"

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

Kind parse_kind(const std::string& name);  // throws std::invalid_argument
const char* to_string(Kind kind);

// The path a run takes, auto resolved.
SpawnPath spawn_path_of(const RunOptions& options);
bool uses_clone(const RunOptions& options);
SpawnPath parse_spawn_path(const std::string& name);  // throws std::invalid_argument
const char* to_string(SpawnPath path);

// Processes per scheduled child (a tree's every node) and memory each.
Demand demand_of(const RunOptions& options, const Schedule& schedule);

// The spawner the options ask for, with room for `max_live` children alive at
// once, each put in process group `pgid`. Throws std::invalid_argument for a
// kind the path cannot serve, std::system_error when a helper cannot start.
std::unique_ptr<Spawner> make_spawner(const RunOptions& options, std::size_t max_live, pid_t pgid);

// Processes one scheduled child is: 1, or a tree's every node.
std::uint64_t processes_per_child(const RunOptions& options);

}  // namespace loadgen
