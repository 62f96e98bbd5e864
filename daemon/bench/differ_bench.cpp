// The differ's cost per cycle over crafted snapshots (no /proc): nothing
// changed (the steady state: one hash lookup per process) and 1 % churn
// (two snapshots alternated, each replacing 1 % of the other's processes).
// time_per_proc is the figure to read.

#include <benchmark/benchmark.h>

#include <deque>
#include <string>
#include <vector>

#include "events/process_table.hpp"

namespace {

using procmond::Event;
using procmond::ProcessIdentity;
using procmond::ProcessRecord;
using procmond::ProcessTable;
using procmond::Snapshot;

class NoReader : public procmond::ProcessReader {
 public:
  bool read(pid_t, procmond::ProcessSample&) override { return false; }
};

// Processes with realistic strings; pids from `first`, `n` of them.
void add_processes(Snapshot& s, std::deque<ProcessIdentity>& ids, pid_t first, int n) {
  for (pid_t pid = first; pid < first + n; ++pid) {
    ProcessIdentity& id = ids.emplace_back();
    id.start_time = 1000 + static_cast<std::uint64_t>(pid);
    id.uid = 1000;
    id.cmdline = {"/usr/bin/python3", "-m", "worker", "--id", std::to_string(pid)};
    id.exe = "/usr/bin/python3.11";
    id.exec_signature = 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(pid);
    id.generation = static_cast<std::uint64_t>(pid);
    ProcessRecord r;
    r.stat.pid = pid;
    r.stat.ppid = 1;
    r.stat.state = 'S';
    r.stat.threads = 1;
    r.stat.start_time = id.start_time;
    r.stat.comm.assign("python3");
    r.rss_bytes = 10 << 20;
    r.identity = &id;
    s.processes.push_back(r);
  }
}

void BM_Differ(benchmark::State& state, int churn_percent) {
  const int n = static_cast<int>(state.range(0));
  const int churn = n * churn_percent / 100;
  std::deque<ProcessIdentity> ids;
  // a: pids [100, 100+n); b: the same but its first `churn` replaced by others.
  Snapshot a, b;
  add_processes(a, ids, 100, n);
  add_processes(b, ids, 100 + n, churn);
  b.processes.insert(b.processes.end(), a.processes.begin() + churn, a.processes.end());

  NoReader reader;
  ProcessTable table(reader);
  std::vector<Event> events;
  table.baseline(a, 0, events);
  events.reserve(static_cast<std::size_t>(2 * churn + 1));
  std::uint64_t t0 = 1;
  bool flip = false;
  std::size_t emitted = 0;
  for (auto _ : state) {
    events.clear();
    const Snapshot& s = churn && (flip = !flip) ? b : a;
    table.apply_snapshot(s, ++t0, 0, events);
    emitted += events.size();
    benchmark::DoNotOptimize(events.data());
  }
  state.counters["procs"] = n;
  state.counters["events_per_cycle"] =
      static_cast<double>(emitted) / static_cast<double>(state.iterations());
  // A rate inverted is seconds per process; the console prints it as "12.3ns".
  state.counters["time_per_proc"] =
      benchmark::Counter(static_cast<double>(n) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK_CAPTURE(BM_Differ, unchanged, 0)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_Differ, churn_1pct, 1)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
