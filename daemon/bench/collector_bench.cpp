// The collector against the kernel's floor and against ps and psutil, over the
// same N synthetic processes, in one binary and one session. Two floors, each
// the cheapest way the kernel offers to do the collector's work: Floor
// (getdents64 of /proc, then openat/read/close of every stat relative to the
// /proc fd) for plain mode, HeldFloor (the same listing, then a pread of each
// stat fd held open) for held mode. Every floor and reader reports `procs`:
// how many stat files it actually read.
// CollectorBpf reads every process with one BPF task iterator (as root; else
// it is skipped, saying why), and BpfWalk is its floor: the iterator's read
// alone, nothing decoded.
// Paired times the floor and every collector within each iteration: the
// ratios to trust on a shared machine.
//
//   collector_bench [--procs=1000,10000] [Google Benchmark flags]
//
// --procs lists how many sleeping children to spawn for each set; 0 spawns
// none and measures the processes present. Every figure is wall time per
// cycle over all processes. At start the soft RLIMIT_NOFILE is raised to the
// hard limit (as procmond does); a set that RLIMIT_NPROC forbids is refused.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "collector.hpp"
#if PROCMOND_HAVE_BPF
#include "task_iterator.hpp"
#include "task_records.hpp"
#endif
#include "forked_children.hpp"
#include "procfs/read.hpp"
#include "procfs/system.hpp"
#include "procmon/fd_limit.hpp"
#include "procmon/unique_fd.hpp"
#include "tool_probe_client.hpp"

namespace {

using procmond::StatMode;

// Children live across benchmarks and are resized only when N changes.
procmond::testing::ForkedChildren& pool() {
  static procmond::testing::ForkedChildren children;
  return children;
}

// The floors' own raw syscalls, not the collector's code: a floor must not
// change when the collector does.

// Lists /proc with getdents64 into one reused 64 KiB buffer (about 2,000
// entries a call). readdir's 32 KiB buffer and call per entry cost more: a
// floor that lists that way is a handicapped floor.
class ProcListing {
 public:
  ProcListing() : fd_(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)), buf_(64 * 1024) {
    if (!fd_) throw std::system_error(errno, std::generic_category(), "open /proc");
  }
  int fd() const { return fd_.get(); }

  // Calls fn(name) for each entry that starts with a digit; returns how many.
  template <typename Fn>
  std::size_t for_each_pid(Fn&& fn) {
    std::size_t listed = 0;
    if (::lseek(fd_.get(), 0, SEEK_SET) != 0) return 0;
    // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name.
    for (long n; (n = ::syscall(SYS_getdents64, fd_.get(), buf_.data(), buf_.size())) > 0;) {
      for (long pos = 0; pos < n;) {
        const char* entry = buf_.data() + pos;
        std::uint16_t reclen;
        std::memcpy(&reclen, entry + 16, sizeof reclen);
        pos += reclen;
        if (entry[19] < '0' || entry[19] > '9') continue;
        ++listed;
        fn(std::string_view(entry + 19));
      }
    }
    return listed;
  }

 private:
  procmon::UniqueFd fd_;
  std::vector<char> buf_;
};

ProcListing& proc() {
  static ProcListing listing;
  return listing;
}

// "PID/stat", opened relative to the /proc fd: two path components fewer to
// walk than "/proc/PID/stat", as the collector does.
class StatPath {
 public:
  explicit StatPath(std::string_view pid_name) {
    std::size_t n = pid_name.copy(chars_.data(), chars_.size() - sizeof "/stat");
    std::memcpy(chars_.data() + n, "/stat", sizeof "/stat");
  }
  const char* c_str() const { return chars_.data(); }

 private:
  std::array<char, 24> chars_{};  // a pid has at most 10 digits
};

// openat, read, close one stat; true if it read something.
bool read_stat(const StatPath& path, std::array<char, 4096>& buf) {
  procmon::UniqueFd fd(::openat(proc().fd(), path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd && ::read(fd.get(), buf.data(), buf.size()) > 0;
}

// The floor of plain mode: list /proc, then open, read and close each stat.
// Returns how many stat files it read.
std::size_t read_every_stat_floor() {
  std::array<char, 4096> buf;
  std::size_t read = 0;
  proc().for_each_pid([&](std::string_view name) { read += read_stat(StatPath(name), buf); });
  return read;
}

// The floor of held mode under the collector's fd budget: list /proc (the
// collector must, to see new processes), pread each stat fd it may hold, and
// open/read/close the stat of each process past the budget, as the collector
// then does. Nothing else: no parse, no lookup. Fds are opened on construction.
class HeldStatFloor {
 public:
  HeldStatFloor() {
    const std::size_t budget = procmond::automatic_held_fd_budget();
    proc().for_each_pid([&](std::string_view name) {
      StatPath path(name);
      if (held_.size() < budget)
        if (procmon::UniqueFd fd(::openat(proc().fd(), path.c_str(), O_RDONLY | O_CLOEXEC)); fd) {
          held_.push_back(std::move(fd));
          return;
        }
      unheld_.push_back(path);
    });
  }
  // Returns how many stat files it read.
  std::size_t cycle() {
    benchmark::DoNotOptimize(proc().for_each_pid([](std::string_view) {}));
    std::size_t read = 0;
    for (const auto& fd : held_) read += ::pread(fd.get(), buf_.data(), buf_.size(), 0) > 0;
    for (const auto& path : unheld_) read += read_stat(path, buf_);
    return read;
  }
  std::size_t held_fds() const { return held_.size(); }

 private:
  std::vector<procmon::UniqueFd> held_;
  std::vector<StatPath> unheld_;
  std::array<char, 4096> buf_;
};

// Kernel memory that cannot be reclaimed, where held fds' slab objects go.
long slab_unreclaimable_kib() {
  auto text = procfs::read_path("/proc/meminfo");
  auto meminfo = text ? procfs::parse_meminfo(*text) : std::nullopt;
  return meminfo ? static_cast<long>(meminfo->slab_unreclaimable_bytes / 1024) : -1;
}

void report_procs(benchmark::State& state, double procs) {
  state.counters["procs"] = procs;
}

// How many stat fds a held reader kept open, and the soft limit that bounds them.
void report_held(benchmark::State& state, double held_fds) {
  state.counters["held_fds"] = held_fds;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    state.counters["fd_limit"] = static_cast<double>(lim.rlim_cur);
}

void BM_Floor(benchmark::State& state) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  std::size_t procs = read_every_stat_floor();
  for (auto _ : state) benchmark::DoNotOptimize(procs = read_every_stat_floor());
  report_procs(state, static_cast<double>(procs));
}

void BM_HeldFloor(benchmark::State& state) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  HeldStatFloor floor;
  std::size_t procs = floor.cycle();
  for (auto _ : state) benchmark::DoNotOptimize(procs = floor.cycle());
  report_procs(state, static_cast<double>(procs));
  report_held(state, static_cast<double>(floor.held_fds()));
}

// The collector options.kind and mode ask for, or nullptr when it cannot be
// made here (BPF without the right): the benchmark is skipped, saying why.
std::unique_ptr<procmond::Collector> collector_or_skip(benchmark::State& state,
                                                       const procmond::CollectorOptions& options) {
  try {
    return procmond::make_collector(options);
  } catch (const std::runtime_error& e) {
    state.SkipWithError(e.what());
    return nullptr;
  }
}

void BM_Collector(benchmark::State& state, procmond::CollectorOptions options) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  long slab_before = slab_unreclaimable_kib();
  auto collector = collector_or_skip(state, options);
  if (!collector) return;
  // Warm: every identity read, every stat fd opened (held mode).
  const procmond::Snapshot* snap = &collector->collect();
  long slab_after = slab_unreclaimable_kib();
  for (auto _ : state) benchmark::DoNotOptimize(snap = &collector->collect());
  report_procs(state, static_cast<double>(snap->processes.size()));
  if (options.kind == procmond::CollectorKind::kProc && options.mode == StatMode::kHeld) {
    report_held(state, snap->stats.held_fds);
    if (snap->stats.held_fds > 0 && slab_before >= 0)
      state.counters["slab_kib_per_held_fd"] =
          static_cast<double>(slab_after - slab_before) / snap->stats.held_fds;
  }
}

#if PROCMOND_HAVE_BPF
// The BPF collector's floor: the kernel's walk and copy alone, one walk of
// the task iterator with nothing decoded (each read's bytes taken whole).
// `procs` counts the processes of the last walk, decoded after the timing.
void BM_BpfWalk(benchmark::State& state) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  std::unique_ptr<procmond::bpf::TaskIterator> iterator;
  try {
    iterator = std::make_unique<procmond::bpf::TaskIterator>();
  } catch (const std::runtime_error& e) {
    state.SkipWithError(e.what());
    return;
  }
  std::size_t bytes = 0;
  auto count = [&bytes](std::span<const char> b) -> std::optional<std::size_t> {
    bytes += b.size();
    return b.size();
  };
  for (auto _ : state) {
    bytes = 0;
    benchmark::DoNotOptimize(iterator->walk(count));
  }
  procmond::bpf::TaskRecordDecoder decoder({});
  std::vector<procmond::ProcessRecord> samples;
  decoder.begin(samples);
  iterator->walk([&](std::span<const char> b) { return decoder.take(b, samples); });
  report_procs(state, static_cast<double>(samples.size()));
  state.counters["bytes"] = static_cast<double>(bytes);
}
#endif

double median_of(std::vector<double> xs) {
  if (xs.empty()) return 0;
  std::nth_element(xs.begin(), xs.begin() + xs.size() / 2, xs.end());
  return xs[xs.size() / 2];
}

// The ratios that matter, measured paired: each iteration times one floor
// cycle and one cycle of each collector (plain, held, and BPF where it
// loads), in rotating order, so a noisy neighbour slows all alike. Reports
// the median per-iteration ratio. (HeldFloor cannot join: its fds and the
// held collector's would together pass the fd limit at 10,000 processes.)
void BM_Paired(benchmark::State& state) {
  pool().resize_paused(static_cast<std::size_t>(state.range(0)));
  auto plain = procmond::make_collector({.mode = StatMode::kPlain});
  auto held = procmond::make_collector({.mode = StatMode::kHeld});
  std::unique_ptr<procmond::Collector> bpf;
  try {
    bpf = procmond::make_collector({.kind = procmond::CollectorKind::kBpf});
  } catch (const std::runtime_error&) {
    // Not here: the ratios without it (CollectorBpf says why).
  }
  std::vector<procmond::Collector*> collectors{plain.get(), held.get()};
  if (bpf) collectors.push_back(bpf.get());
  for (auto* c : collectors) c->collect();
  std::size_t floor_read = 0;
  const std::size_t contenders = collectors.size() + 1;  // the floor is contender 0
  auto run = [&](std::size_t which) {
    if (which == 0)
      benchmark::DoNotOptimize(floor_read = read_every_stat_floor());
    else
      benchmark::DoNotOptimize(&collectors[which - 1]->collect());
  };
  std::vector<std::vector<double>> ratios(collectors.size());
  std::size_t rotation = 0;
  std::vector<double> seconds(contenders);
  for (auto _ : state) {
    for (std::size_t k = 0; k < contenders; ++k) {
      std::size_t which = (rotation + k) % contenders;
      auto start = std::chrono::steady_clock::now();
      run(which);
      seconds[which] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    rotation = (rotation + 1) % contenders;
    for (std::size_t c = 0; c < collectors.size(); ++c)
      ratios[c].push_back(seconds[c + 1] / seconds[0]);
  }
  state.counters["plain_vs_floor"] = median_of(ratios[0]);
  state.counters["held_vs_floor"] = median_of(ratios[1]);
  if (bpf) state.counters["bpf_vs_floor"] = median_of(ratios[2]);
  report_procs(state, static_cast<double>(floor_read));  // the collectors' own: their benchmarks
  report_held(state, held->collect().stats.held_fds);
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
  if (out.empty()) {
    std::cerr << "collector_bench: --procs takes a list of counts, such as --procs=1000,10000\n";
    std::exit(2);
  }
  return out;
}

// RLIMIT_NPROC, as ulimit -u shows it.
std::string nproc_limit_text() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NPROC, &lim) != 0) return "unknown";
  return lim.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(lim.rlim_cur);
}

// A set that RLIMIT_NPROC plainly forbids is refused before anything is
// spawned (root is exempt from the limit). Fork failures it does not foresee
// (the user's other processes count too) are caught in main.
bool nproc_allows(long most) {
  rlimit lim{};
  if (::getuid() == 0 || ::getrlimit(RLIMIT_NPROC, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY ||
      lim.rlim_cur >= static_cast<rlim_t>(most))
    return true;
  std::cerr << "collector_bench: --procs=" << most << " needs " << most
            << " child processes, but RLIMIT_NPROC (ulimit -u) is " << lim.rlim_cur << " for uid "
            << ::getuid() << ": raise it or ask for fewer\n";
  return false;
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
  if (!nproc_allows(*std::max_element(procs.begin(), procs.end()))) return 1;

  // As procmond does: without it, held mode reads most of 10,000 processes
  // plain under Debian's default soft limit of 1,024, and says nothing.
  procmon::FdLimit fds = procmon::raise_fd_limit();
  std::cerr << "collector_bench: RLIMIT_NOFILE soft limit " << fds.before << " -> " << fds.soft
            << " (hard " << fds.hard << "): held mode holds up to "
            << procmond::automatic_held_fd_budget()
            << " stat fds; held_fds says how many it held\n";

  // Grouped by N so that the children are spawned once per set.
  for (long n : procs) {
    benchmark::RegisterBenchmark("Floor", BM_Floor)->Arg(n)->UseRealTime();
    benchmark::RegisterBenchmark("HeldFloor", BM_HeldFloor)->Arg(n)->UseRealTime();
    benchmark::RegisterBenchmark("CollectorPlain", BM_Collector,
                                 procmond::CollectorOptions{.mode = StatMode::kPlain})
        ->Arg(n)
        ->UseRealTime();
    benchmark::RegisterBenchmark("CollectorHeld", BM_Collector,
                                 procmond::CollectorOptions{.mode = StatMode::kHeld})
        ->Arg(n)
        ->UseRealTime();
    benchmark::RegisterBenchmark("CollectorBpf", BM_Collector,
                                 procmond::CollectorOptions{.kind = procmond::CollectorKind::kBpf})
        ->Arg(n)
        ->UseRealTime();
#if PROCMOND_HAVE_BPF
    benchmark::RegisterBenchmark("BpfWalk", BM_BpfWalk)->Arg(n)->UseRealTime();
#endif
    benchmark::RegisterBenchmark("Paired", BM_Paired)->Arg(n)->UseRealTime()->MinTime(2.0);
    benchmark::RegisterBenchmark("Psutil", BM_Tool, std::string("psutil"))->Arg(n)->UseManualTime();
    benchmark::RegisterBenchmark("Ps", BM_Tool, std::string("ps"))->Arg(n)->UseManualTime();
  }
  try {
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::system_error& e) {
    std::size_t spawned = pool().size();
    pool().kill_all();
    std::cerr << "collector_bench: " << e.what() << " after " << spawned << " children";
    if (e.code().value() == EAGAIN)
      std::cerr << ": RLIMIT_NPROC (ulimit -u) is " << nproc_limit_text() << " for uid "
                << ::getuid() << ", and the uid's other processes count towards it";
    std::cerr << '\n';
    return 1;
  }
  benchmark::Shutdown();
  pool().kill_all();
  return 0;
}
