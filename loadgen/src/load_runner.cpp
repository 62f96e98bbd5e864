#include "load_runner.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "enum_names.hpp"
#include "monotonic.hpp"
#include "procfs/quick_read.hpp"
#include "spawner.hpp"

namespace loadgen {
namespace {

void sleep_until(double t) {
  timespec ts{static_cast<time_t>(t), static_cast<long>((t - std::floor(t)) * 1e9)};
  ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);  // EINTR: the caller loops
}

// VmHWM of our own memory. Not ru_maxrss: Linux carries that across execve,
// so a loadgen started from a 13 MB Python reported 13 MB whatever it used.
std::uint64_t own_peak_rss_bytes() {
  auto status = procfs::read_status(0);
  return status ? status->vm_hwm_bytes.value_or(0) : 0;
}

std::uint64_t tree_nodes(const KindOptions& k) {
  std::uint64_t nodes = 1, level = 1;
  for (int d = 0; d < k.tree_depth; ++d)
    nodes += level *= static_cast<std::uint64_t>(k.tree_fanout);
  return nodes;
}

std::unique_ptr<Spawner> make_spawner(const RunOptions& o, std::size_t max_live) {
  if (uses_clone(o)) {
    if (o.kind != Kind::kSleep)
      throw std::invalid_argument("the clone path serves the sleep kind only");
    return std::make_unique<CloneSpawner>(max_live);
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
    return std::make_unique<ZygoteSpawner>(o.helper_path, std::move(args));
  return std::make_unique<HelperSpawner>(o.helper_path, std::move(args));
}

}  // namespace

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
  std::uint64_t per_root = o.kind == Kind::kTree ? tree_nodes(o.kind_options) : 1;
  std::uint64_t bytes = uses_clone(o) ? kCloneBytes : kHelperBytes;
  if (o.kind == Kind::kMem) bytes += o.kind_options.mem_bytes;
  const std::uint64_t processes = peak_live(schedule) * per_root;
  const double cores =
      o.kind == Kind::kCpu ? static_cast<double>(processes) * o.kind_options.cpu_share : 0;
  return {.processes = processes, .fds = 16, .bytes_each = bytes, .cpu_cores = cores};
}

namespace {

// One run's state: who is alive, who is due to stop, who was killed and is
// still to be reaped. The loop in run_load() drives it.
class LoadRun {
 public:
  LoadRun(const RunOptions& o, const Schedule& schedule) : schedule_(schedule) {
    s_.profile = to_string(o.profile.profile);
    s_.kind = to_string(o.kind);
    s_.spawner = to_string(spawn_path_of(o));
    s_.count = o.profile.count;
    s_.asked = schedule.children.size();
    const std::size_t max_live = std::max<std::size_t>(1, peak_live(schedule));
    // Headroom: a killed child keeps its clone stack slot until it is reaped.
    spawner_ = make_spawner(o, max_live + max_live / 4 + 64);
    live_.reserve(max_live);
    latency_us_.reserve(schedule.children.size());
    stopped_by_us_.assign(schedule.children.size(), false);
  }

  // Kills every child whose stop time has come.
  void stop_due(double t) {
    while (!stops_.empty() && stops_.top().first <= t) {
      pid_t pid = stops_.top().second;
      stops_.pop();
      if (auto it = live_.find(pid); it != live_.end()) {
        stopped_by_us_[it->second] = true;
        ::kill(pid, SIGKILL);
        dying_.push_back(pid);
      }
    }
  }

  // Starts every child whose start time has come, in batches (the zygote
  // takes a batch in one request); returns early on a stop request.
  void start_due(double t, const volatile std::sig_atomic_t* stop) {
    constexpr std::size_t kBatch = 256;  // between batches: stops, reaping, signals
    const auto& children = schedule_.children;
    while (next_ < children.size() && children[next_].start_s <= t && *stop == 0) {
      std::size_t due = 0;
      while (due < kBatch && next_ + due < children.size() && children[next_ + due].start_s <= t)
        ++due;
      // Out of clone stacks: wait for the oldest killed child to free one.
      while (spawner_->room() < due && !dying_.empty()) reap_dying(/*block=*/true);
      due = std::clamp<std::size_t>(spawner_->room(), 1, due);
      if (first_spawn_ < 0) first_spawn_ = monotonic_seconds();
      spawner_->spawn_many(due, [&](const SpawnResult& r, double seconds) { record(r, seconds); });
      reap_dying(false);
    }
  }

  // Reaps the children we killed, by pid: waitpid(-1) walks the kernel's list
  // of children past every living one, which at 10,000 live costs more than
  // the spawn. With `block`, waits for the oldest one at least.
  void reap_dying(bool block) {
    while (!dying_.empty()) {
      const pid_t pid = dying_.front();
      // Already reaped by sweep(): its pid may by now be a new child of ours,
      // which must not be waited for (pid_max here is 32,768; churn wraps it).
      if (auto it = live_.find(pid); it == live_.end() || !stopped_by_us_[it->second]) {
        dying_.pop_front();
        continue;
      }
      int status;
      const pid_t r = ::waitpid(pid, &status, block ? 0 : WNOHANG);
      if (r == 0) break;  // not dead yet; the rest were killed later
      if (r == pid) account(pid, false);
      dying_.pop_front();
      block = false;
    }
  }

  // Reaps whatever else has ended: children that died on their own, and
  // grandchildren handed to us as subreaper.
  void sweep() {
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) account(pid, false);
  }

  // The time the loop must wake next, in seconds since the start.
  double next_wake() const {
    double wake = schedule_.end_s;
    if (next_ < schedule_.children.size()) wake = std::min(wake, schedule_.children[next_].start_s);
    if (!stops_.empty()) wake = std::min(wake, stops_.top().first);
    return wake;
  }
  bool done(double t) const { return next_ == schedule_.children.size() && t >= schedule_.end_s; }
  Progress progress(double t) const { return {t, s_.spawned, live_.size(), s_.failed}; }

  // Kills every child, oldest first, and reaps them by pid (for 10,000: hash
  // order with waitpid(-1) took 0.7 s, oldest first 0.35-0.55 s, by pid
  // 0.2-0.3 s), then whatever grandchildren are left, until none is.
  Summary teardown(int interrupted_by) {
    s_.interrupted_by = interrupted_by;
    const double start = monotonic_seconds();
    spawner_->shutdown();
    s_.load_seconds = first_spawn_ < 0 ? 0 : start - first_spawn_;
    std::vector<std::pair<std::size_t, pid_t>> order;
    order.reserve(live_.size());
    for (const auto& [pid, index] : live_) order.emplace_back(index, pid);
    std::sort(order.begin(), order.end());
    for (const auto& [index, pid] : order) ::kill(pid, SIGKILL);
    for (const auto& [index, pid] : order) {
      int status;
      if (::waitpid(pid, &status, 0) == pid) account(pid, true);  // the dying ones too
    }
    dying_.clear();
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, 0)) > 0) account(pid, true);  // until ECHILD
    s_.teardown_seconds = monotonic_seconds() - start;

    s_.spawn_seconds = first_spawn_ < 0 ? 0 : last_spawn_ - first_spawn_;
    s_.rate_per_s = s_.spawn_seconds > 0 ? static_cast<double>(s_.spawned) / s_.spawn_seconds : 0;
    s_.churn_per_s =
        s_.load_seconds > 0 ? static_cast<double>(s_.spawned + s_.exits) / s_.load_seconds : 0;
    s_.spawn_latency_us = percentiles(latency_us_);
    s_.peak_rss_bytes = own_peak_rss_bytes();
    return s_;
  }

 private:
  void record(const SpawnResult& r, double seconds) {
    const ScheduledChild& child = schedule_.children[next_];
    if (r.pid > 0) {
      last_spawn_ = monotonic_seconds();
      latency_us_.push_back(seconds * 1e6);
      live_.emplace(r.pid, next_);
      if (child.stop_s != kUntilEnd) stops_.emplace(child.stop_s, r.pid);
      ++s_.spawned;
      s_.peak_live = std::max<std::uint64_t>(s_.peak_live, live_.size());
    } else {
      ++s_.failed;
      ++s_.failure_reasons[std::strerror(r.error)];
    }
    ++next_;
  }

  void account(pid_t pid, bool in_teardown) {
    spawner_->reaped(pid);
    auto it = live_.find(pid);
    if (it == live_.end()) return;  // a grandchild
    if (in_teardown) {
      ++s_.reaped_in_teardown;
    } else {
      ++s_.exits;
      if (!stopped_by_us_[it->second]) ++s_.died_early;
    }
    live_.erase(it);
  }

  const Schedule& schedule_;
  Summary s_;
  std::unique_ptr<Spawner> spawner_;
  std::unordered_map<pid_t, std::size_t> live_;  // pid -> index in the schedule
  using Stop = std::pair<double, pid_t>;
  std::priority_queue<Stop, std::vector<Stop>, std::greater<>> stops_;
  std::deque<pid_t> dying_;  // killed, oldest first, not yet reaped
  std::vector<double> latency_us_;
  std::vector<bool> stopped_by_us_;
  std::size_t next_ = 0;
  double first_spawn_ = -1, last_spawn_ = 0;
};

}  // namespace

Summary run_load(const RunOptions& o, const Schedule& schedule,
                 const volatile std::sig_atomic_t* stop,
                 const std::function<void(const Progress&)>& progress) {
  // Orphaned grandchildren (a tree's) come to us, so that we reap them too.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  LoadRun run(o, schedule);
  const double t0 = monotonic_seconds();
  double last_progress = -1, last_sweep = 0;
  while (*stop == 0) {
    double t = monotonic_seconds() - t0;
    run.stop_due(t);
    run.start_due(t, stop);
    run.reap_dying(false);
    t = monotonic_seconds() - t0;
    if (t - last_sweep >= 0.05) {
      run.sweep();
      last_sweep = t;
    }
    if (t - last_progress >= 0.25) {
      progress(run.progress(t));
      last_progress = t;
    }
    if (run.done(t)) break;
    sleep_until(t0 + std::min(run.next_wake(), t + 0.05));  // wake at least every 50 ms
  }
  return run.teardown(static_cast<int>(*stop));
}

}  // namespace loadgen
