#include "run_options.hpp"

#include <stdexcept>
#include <vector>

#include "enum_names.hpp"

namespace loadgen {
namespace {

std::uint64_t tree_nodes(const KindOptions& k) {
  std::uint64_t nodes = 1, level = 1;
  for (int d = 0; d < k.tree_depth; ++d)
    nodes += level *= static_cast<std::uint64_t>(k.tree_fanout);
  return nodes;
}

}  // namespace

std::unique_ptr<Spawner> make_spawner(const RunOptions& o, std::size_t max_live, pid_t pgid) {
  if (uses_clone(o)) {
    if (o.kind != Kind::kSleep)
      throw std::invalid_argument("the clone path serves the sleep kind only");
    return std::make_unique<CloneSpawner>(max_live, pgid);
  }
  const KindOptions& k = o.kind_options;
  std::vector<std::string> args{to_string(o.kind)};
  switch (o.kind) {
    case Kind::kCpu:
      args.push_back(std::to_string(k.cpu_share));
      break;
    case Kind::kMem:
      args.push_back(std::to_string(k.mem_bytes));
      break;
    case Kind::kTree:
      args.push_back(std::to_string(k.tree_depth));
      args.push_back(std::to_string(k.tree_fanout));
      break;
    default:
      break;
  }
  if (spawn_path_of(o) == SpawnPath::kZygote)
    return std::make_unique<ZygoteSpawner>(o.helper_path, std::move(args), pgid);
  return std::make_unique<HelperSpawner>(o.helper_path, std::move(args), pgid);
}

std::uint64_t processes_per_child(const RunOptions& o) {
  return o.kind == Kind::kTree ? tree_nodes(o.kind_options) : 1;
}

SpawnPath spawn_path_of(const RunOptions& o) {
  if (o.spawn_path != SpawnPath::kAuto) return o.spawn_path;
  return o.kind == Kind::kSleep ? SpawnPath::kClone : SpawnPath::kZygote;
}

bool uses_clone(const RunOptions& o) {
  return spawn_path_of(o) == SpawnPath::kClone;
}

constexpr NameTable<SpawnPath, 4> kSpawnPathNames{{{SpawnPath::kAuto, "auto"},
                                                   {SpawnPath::kClone, "clone"},
                                                   {SpawnPath::kZygote, "zygote"},
                                                   {SpawnPath::kSpawn, "spawn"}}};
constexpr NameTable<Kind, 5> kKindNames{{{Kind::kSleep, "sleep"},
                                         {Kind::kCpu, "cpu"},
                                         {Kind::kMem, "mem"},
                                         {Kind::kTree, "tree"},
                                         {Kind::kExec, "exec"}}};

SpawnPath parse_spawn_path(const std::string& name) {
  return parse_name(kSpawnPathNames, name, "spawner");
}
const char* to_string(SpawnPath path) {
  return name_of(kSpawnPathNames, path);
}
Kind parse_kind(const std::string& name) {
  return parse_name(kKindNames, name, "kind");
}
const char* to_string(Kind kind) {
  return name_of(kKindNames, kind);
}

Demand demand_of(const RunOptions& o, const Schedule& schedule) {
  // Kernel memory per task (stack, task_struct, tables) plus the child's own:
  // a clone shares our memory; the static helper maps little of its own.
  constexpr std::uint64_t kCloneBytes = 32 << 10, kHelperBytes = 160 << 10;
  std::uint64_t per_root = processes_per_child(o);
  std::uint64_t bytes = uses_clone(o) ? kCloneBytes : kHelperBytes;
  // Saturated, not wrapped: --mem-bytes near 2^64 must fail the memory check.
  if (o.kind == Kind::kMem && __builtin_add_overflow(bytes, o.kind_options.mem_bytes, &bytes))
    bytes = UINT64_MAX;
  std::uint64_t processes;
  if (__builtin_mul_overflow(std::uint64_t{schedule.peak_live()}, per_root, &processes))
    processes = UINT64_MAX;
  const double cores =
      o.kind == Kind::kCpu ? static_cast<double>(processes) * o.kind_options.cpu_share : 0;
  return {.processes = processes, .fds = 16, .bytes_each = bytes, .cpu_cores = cores};
}

}  // namespace loadgen
