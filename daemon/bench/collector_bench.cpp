// The collector against the kernel's floor and against ps and psutil, over the
// same N synthetic processes, in one binary and one session. Two floors: Floor
// (open/read/close of every stat) for plain mode, HeldFloor (pread of stat fds
// held open) for held mode; both list /proc first, as any reader must.
// Paired times the floor and both modes within each iteration: the ratios to
// trust on a shared machine.
//
//   collector_bench [--procs=1000,10000] [Google Benchmark flags]
//
// --procs lists how many sleeping children to spawn for each set; 0 spawns
// none and measures the processes present. Every figure is wall time per
// cycle over all processes; `procs` says how many each cycle saw.

#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "collector.hpp"
#include "forked_children.hpp"
#include "procmon/unique_fd.hpp"
#include "tool_probe_client.hpp"

namespace {

using procmond::StatMode;

// Children live across benchmarks and are resized only when N changes.
procmond::testing::ForkedChildren& pool() {
  static procmond::testing::ForkedChildren children;
  return children;
}

// Calls fn(pid name) for each pid in /proc, as a plain C reader would
// (readdir); returns how many pids were listed.
template <typename Fn>
std::size_t for_each_pid_name(Fn&& fn) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return 0;
  std::size_t listed = 0;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ++listed;
    fn(e->d_name);
  }
  ::closedir(dir);
  return listed;
}

// The floor of plain mode: list /proc, then open, read and close each stat.
std::size_t read_every_stat_floor() {
  char path[300];  // "/proc/" + d_name (up to 255) + "/stat"
  char buf[4096];
  return for_each_pid_name([&](const char* name) {
    std::snprintf(path, sizeof path, "/proc/%s/stat", name);
    int fd = ::open(path, O_RDONLY);
    if (fd < 0) return;
    benchmark::DoNotOptimize(::read(fd, buf, sizeof buf));
    ::close(fd);
  });
}

// The floor of held mode: list /proc, then pread each stat fd opened on the
// first call. Nothing else: no parse, no lookup, no check for new pids.
std::size_t pread_every_held_stat_floor(std::vector<procmon::UniqueFd>& fds) {
  if (fds.empty()) {
    char path[300];
    for_each_pid_name([&](const char* name) {
      std::snprintf(path, sizeof path, "/proc/%s/stat", name);
      if (int fd = ::open(path, O_RDONLY); fd >= 0) fds.emplace_back(fd);
    });
  }
  std::size_t listed = for_each_pid_name([](const char*) {});
  char buf[4096];
  for (const auto& fd : fds) benchmark::DoNotOptimize(::pread(fd.get(), buf, sizeof buf, 0));
  return listed;
}

// Kernel memory that cannot be reclaimed, where held fds' slab objects go.
long slab_unreclaimable_kib() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long value;
  std::string unit;
  while (meminfo >> key >> value >> unit)
    if (key == "SUnreclaim:") return value;
  return -1;
}

void report_procs(benchmark::State& state, double procs) {
  state.counters["procs"] = procs;
}

void BM_Floor(benchmark::State& state) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  std::size_t procs = read_every_stat_floor();
  for (auto _ : state) benchmark::DoNotOptimize(procs = read_every_stat_floor());
  report_procs(state, static_cast<double>(procs));
}

void BM_HeldFloor(benchmark::State& state) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  std::vector<procmon::UniqueFd> fds;
  std::size_t procs = pread_every_held_stat_floor(fds);
  for (auto _ : state) benchmark::DoNotOptimize(procs = pread_every_held_stat_floor(fds));
  report_procs(state, static_cast<double>(procs));
}

void BM_Collector(benchmark::State& state, StatMode mode) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  long slab_before = slab_unreclaimable_kib();
  auto collector = procmond::make_collector({.mode = mode});
  // Warm: every identity read, every stat fd opened (held mode).
  const procmond::Snapshot* snap = &collector->collect();
  long slab_after = slab_unreclaimable_kib();
  for (auto _ : state) benchmark::DoNotOptimize(snap = &collector->collect());
  report_procs(state, static_cast<double>(snap->processes.size()));
  if (mode == StatMode::kHeld) {
    state.counters["held_fds"] = snap->stats.held_fds;
    if (snap->stats.held_fds > 0 && slab_before >= 0)
      state.counters["slab_kib_per_held_fd"] =
          static_cast<double>(slab_after - slab_before) / snap->stats.held_fds;
  }
}

double median_of(std::vector<double> xs) {
  if (xs.empty()) return 0;
  std::nth_element(xs.begin(), xs.begin() + xs.size() / 2, xs.end());
  return xs[xs.size() / 2];
}

// The ratios that matter, measured paired: each iteration times one floor
// cycle, one plain and one held collector cycle, in rotating order, so a
// noisy neighbour slows all three alike. Reports the median per-iteration
// ratio. (HeldFloor cannot join: its fds and the held collector's would
// together pass the fd limit at 10,000 processes.)
void BM_Paired(benchmark::State& state) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  auto plain = procmond::make_collector({.mode = StatMode::kPlain});
  auto held = procmond::make_collector({.mode = StatMode::kHeld});
  plain->collect();
  held->collect();
  auto run = [&](int which) {
    switch (which) {
      case 0:
        benchmark::DoNotOptimize(read_every_stat_floor());
        break;
      case 1:
        benchmark::DoNotOptimize(&plain->collect());
        break;
      default:
        benchmark::DoNotOptimize(&held->collect());
        break;
    }
  };
  std::vector<double> plain_ratio, held_ratio;
  int rotation = 0;
  for (auto _ : state) {
    std::array<double, 3> seconds{};
    for (int k = 0; k < 3; ++k) {
      int which = (rotation + k) % 3;
      auto start = std::chrono::steady_clock::now();
      run(which);
      seconds[which] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    rotation = (rotation + 1) % 3;
    plain_ratio.push_back(seconds[1] / seconds[0]);
    held_ratio.push_back(seconds[2] / seconds[0]);
  }
  state.counters["plain_vs_floor"] = median_of(plain_ratio);
  state.counters["held_vs_floor"] = median_of(held_ratio);
  report_procs(state, static_cast<double>(held->collect().processes.size()));
}

void BM_Tool(benchmark::State& state, const std::string& tool) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  std::unique_ptr<procmond::bench::ToolProbe> probe;
  try {
    probe = std::make_unique<procmond::bench::ToolProbe>(PYTHON_EXECUTABLE, TOOLS_PROBE_PY);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  auto warm = probe->time(tool);  // psutil caches its Process objects: measure it warm
  if (!warm) {
    state.SkipWithError(("tools_probe.py failed on " + tool).c_str());
    return;
  }
  std::uint64_t count = warm->count;
  for (auto _ : state) {
    auto t = probe->time(tool);
    if (!t) {
      state.SkipWithError(("tools_probe.py failed on " + tool).c_str());
      break;
    }
    state.SetIterationTime(static_cast<double>(t->ns) / 1e9);
    count = t->count;
  }
  report_procs(state, static_cast<double>(count));
}

std::vector<long> parse_procs(const std::string& list) {
  std::vector<long> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    long n = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < 0 || n > 100000) {
      std::cerr << "collector_bench: --procs takes counts from 0 to 100000, got '" << item << "'\n";
      std::exit(2);
    }
    out.push_back(n);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<long> procs{1000, 10000};
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--procs=", 0) == 0)
      procs = parse_procs(arg.substr(8));
    else
      rest.push_back(argv[i]);
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;

  // Grouped by N so that the children are spawned once per set.
  for (long n : procs) {
    benchmark::RegisterBenchmark("Floor", BM_Floor)->Arg(n)->UseRealTime();
    benchmark::RegisterBenchmark("HeldFloor", BM_HeldFloor)->Arg(n)->UseRealTime();
    benchmark::RegisterBenchmark("CollectorPlain", BM_Collector, StatMode::kPlain)
        ->Arg(n)
        ->UseRealTime();
    benchmark::RegisterBenchmark("CollectorHeld", BM_Collector, StatMode::kHeld)
        ->Arg(n)
        ->UseRealTime();
    benchmark::RegisterBenchmark("Paired", BM_Paired)->Arg(n)->UseRealTime()->MinTime(2.0);
    benchmark::RegisterBenchmark("Psutil", BM_Tool, std::string("psutil"))->Arg(n)->UseManualTime();
    benchmark::RegisterBenchmark("Ps", BM_Tool, std::string("ps"))->Arg(n)->UseManualTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  pool().kill_all();
  return 0;
}
