// What polling misses: loadgen churns short-lived children while two
// observers watch in one run, each on its own thread:
// - poll: the collector (make_collector()) every --poll-interval, counting
//   loadgen's children that appear in any snapshot;
// - connector: the netlink proc connector, counting their forks and exits,
//   and the delay from the kernel's exit timestamp to our drain delivering
//   it (CLOCK_MONOTONIC both).
// Each observer is a class with start/stop/tally, so that the daemon's
// end-to-end view (procmond run's event stream) can be added as a third.
//
//   short_lived_bench [--live 50] [--life 50ms] [--duration 10s] [--poll-interval 1s]
//                     [--loadgen build/bin/loadgen] [--json FILE]
//
// Needs root (the connector). loadgen's children are told apart by parent:
// loadgen's pid (the zygote forks with CLONE_PARENT). loadgen's two helpers
// (its group's anchor and the zygote) are its children too, alive the whole
// run: a child that lived longer than --helper-life (by the connector's fork
// and exit, or between the poll's first and last sight) counts as a helper,
// not as a churn child. Exit status: 0 measured (also when loadgen shed
// starts on a busy machine: the share is of those it started); 1 an error
// (loadgen failed, no connector); 2 bad arguments.

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collector.hpp"
#include "connector/proc_connector.hpp"

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as the kernel's timestamps

// What one observer saw of loadgen's churn children.
struct Tally {
  std::size_t children = 0;  // churn children seen at all
  std::size_t forks = 0;
  std::size_t execs = 0;
  std::size_t exits = 0;
  std::size_t helpers = 0;  // loadgen's long-lived helpers, left out of the above
  std::unordered_set<pid_t> helper_pids;
  std::uint64_t overflows = 0;
  std::vector<double> exit_delay_ms;  // kernel timestamp -> delivered to us
};

// Both observers learn loadgen's pid after they start (they must be watching
// before its first fork); they keep what may be needed until then.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual const char* name() const = 0;
  virtual void start() = 0;
  virtual void stop() = 0;  // after loadgen has exited
  // `helpers`: pids another observer knows to be loadgen's helpers.
  virtual Tally tally(pid_t loadgen, std::uint64_t helper_life_ns,
                      const std::unordered_set<pid_t>& helpers) const = 0;
};

// An observer that watches on a thread of its own until stopped.
class ThreadedObserver : public Observer {
 public:
  void start() final {
    thread_ = std::thread([this] { run(); });
  }
  void stop() final {
    stop_ = true;
    thread_.join();
  }

 protected:
  virtual void run() = 0;  // returns soon after stopping() turns true
  bool stopping() const { return stop_; }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The collector every interval, as a poll-only monitor would run it.
class PollObserver final : public ThreadedObserver {
 public:
  PollObserver(std::chrono::nanoseconds interval, const std::atomic<pid_t>& loadgen)
      : interval_(interval), loadgen_(loadgen), collector_(procmond::make_collector()) {}
  const char* name() const override { return "poll"; }
  Tally tally(pid_t loadgen, std::uint64_t helper_life_ns,
              const std::unordered_set<pid_t>& helpers) const override {
    Tally t;
    for (const auto& [key, sighting] : seen_) {
      if (key.first != loadgen) continue;
      const auto pid = static_cast<pid_t>(key.second >> 32);
      if (helpers.contains(pid) || sighting.last_ns - sighting.first_ns > helper_life_ns)
        ++t.helpers;
      else
        ++t.children;
    }
    return t;
  }
  std::size_t cycles() const { return cycles_; }

 private:
  struct Sighting {
    std::uint64_t first_ns = 0, last_ns = 0;
  };
  void run() override {
    auto next = Clock::now();
    while (!stopping()) {
      const pid_t parent = loadgen_.load();
      const std::uint64_t now = procmond::monotonic_now_ns();
      const procmond::Snapshot& snap = collector_->collect();
      ++cycles_;
      if (parent > 0)
        for (const auto& p : snap.processes) {
          if (p.stat.ppid != parent) continue;
          // (pid, start time): a reused pid is another child.
          auto& s = seen_[{parent, (std::uint64_t{static_cast<std::uint32_t>(p.stat.pid)} << 32) |
                                       (p.stat.start_time & 0xffffffffu)}];
          if (s.first_ns == 0) s.first_ns = now;
          s.last_ns = now;
        }
      next += interval_;
      std::this_thread::sleep_until(next);
    }
  }
  struct KeyHash {
    std::size_t operator()(const std::pair<pid_t, std::uint64_t>& k) const {
      return std::hash<std::uint64_t>{}(k.second * 31 + static_cast<std::uint64_t>(k.first));
    }
  };

  std::chrono::nanoseconds interval_;
  const std::atomic<pid_t>& loadgen_;
  std::unique_ptr<procmond::Collector> collector_;
  std::unordered_map<std::pair<pid_t, std::uint64_t>, Sighting, KeyHash> seen_;
  std::size_t cycles_ = 0;
};

// The netlink proc connector, drained as soon as it is readable.
class ConnectorObserver final : public ThreadedObserver {
 public:
  explicit ConnectorObserver(procmond::ProcConnector connector) : connector_(std::move(connector)) {
    events_.reserve(1 << 18);  // ours and the machine's: rarely grown while timing
  }
  const char* name() const override { return "connector"; }
  Tally tally(pid_t loadgen, std::uint64_t helper_life_ns,
              const std::unordered_set<pid_t>&) const override {
    using Kind = procmond::ConnectorEvent::Kind;
    struct Child {
      pid_t pid = 0;
      std::uint64_t fork_ns = 0;
      std::size_t execs = 0;
      std::optional<Recorded> exit;
    };
    std::unordered_map<pid_t, Child> live;  // loadgen's children, by pid, until their exit
    std::vector<Child> done;
    for (const auto& r : events_) {
      const auto& e = r.event;
      if (e.kind == Kind::kFork) {
        if (e.ppid == loadgen) live[e.pid] = Child{e.pid, e.mono_ns, 0, std::nullopt};
        continue;
      }
      const auto it = live.find(e.pid);
      if (it == live.end()) continue;
      if (e.kind == Kind::kExec) {
        ++it->second.execs;
      } else {
        it->second.exit = r;
        done.push_back(it->second);
        live.erase(it);
      }
    }
    for (auto& [pid, child] : live) done.push_back(child);  // no exit seen
    Tally t;
    t.overflows = connector_.overflows();
    for (const auto& c : done) {
      const std::uint64_t end = c.exit ? c.exit->event.mono_ns : last_ns_;
      if (end - c.fork_ns > helper_life_ns) {
        ++t.helpers;
        t.helper_pids.insert(c.pid);
        continue;
      }
      ++t.children;
      ++t.forks;
      t.execs += c.execs;
      if (!c.exit) continue;
      ++t.exits;
      t.exit_delay_ms.push_back(static_cast<double>(c.exit->delivered_ns - c.exit->event.mono_ns) /
                                1e6);
    }
    return t;
  }

 private:
  struct Recorded {
    procmond::ConnectorEvent event;
    std::uint64_t delivered_ns;
  };
  void run() override {
    while (!stopping()) {
      pollfd p{connector_.fd(), POLLIN, 0};
      ::poll(&p, 1, 50);  // wakes to look at stop_
      drain();
    }
    drain();
    last_ns_ = procmond::monotonic_now_ns();
  }
  void drain() {
    // Everything is kept: loadgen's pid is known only once it has forked.
    connector_.drain([&](const procmond::ConnectorEvent& e) {
      events_.push_back({e, procmond::monotonic_now_ns()});
    });
  }

  procmond::ProcConnector connector_;
  std::vector<Recorded> events_;
  std::uint64_t last_ns_ = 0;
};

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

struct Options {
  std::size_t live = 50;
  std::string life = "50ms";
  std::string duration = "10s";
  double poll_interval_s = 1.0;
  double helper_life_s = 2.0;
  std::string loadgen;
  std::string json_out;
};

// Runs loadgen to the end; its summary (its --json) and exit status.
std::pair<nlohmann::json, int> run_loadgen(const Options& o, std::atomic<pid_t>& pid_out) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("short_lived_bench." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto summary = dir / "loadgen.json";
  std::vector<std::string> args = {o.loadgen,
                                   "run",
                                   "-p",
                                   "churn",
                                   "-n",
                                   std::to_string(o.live),
                                   "--churn-life-min",
                                   o.life,
                                   "--churn-life-max",
                                   o.life,
                                   "-d",
                                   o.duration,
                                   "-k",
                                   "exec",
                                   "-q",
                                   "--json",
                                   summary.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // loadgen's children die with loadgen in turn
    if (::getppid() != parent) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_out = pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  nlohmann::json j;
  if (std::ifstream in(summary); in) j = nlohmann::json::parse(in, nullptr, false);
  std::filesystem::remove_all(dir);
  return {j, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.loadgen = (std::filesystem::canonical("/proc/self/exe").parent_path() / "loadgen").string();
  CLI::App app{
      "short_lived_bench: what a 1 s /proc poll misses of short-lived processes, "
      "against the netlink proc connector"};
  app.add_option("--live", o.live, "loadgen --count: children alive at once")
      ->capture_default_str();
  app.add_option("--life", o.life, "each child's life (loadgen's duration syntax)")
      ->capture_default_str();
  app.add_option("--duration", o.duration, "how long loadgen churns")->capture_default_str();
  app.add_option("--poll-interval", o.poll_interval_s, "seconds between collector cycles")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--helper-life", o.helper_life_s,
                 "a child of loadgen alive longer (s) is one of its helpers, not churn")
      ->capture_default_str();
  app.add_option("--loadgen", o.loadgen, "loadgen binary")->capture_default_str();
  app.add_option("--json", o.json_out, "also write the figures as JSON to FILE");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::string why;
  auto connector = procmond::ProcConnector::open({}, &why);
  if (!connector) {
    std::cerr << "short_lived_bench: " << why << "\n";
    return 1;
  }
  if (!connector->rcvbuf_forced())
    std::cerr << "short_lived_bench: SO_RCVBUFFORCE refused; receive buffer "
              << connector->rcvbuf_bytes() << " bytes\n";

  std::atomic<pid_t> loadgen{0};
  PollObserver poll(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::duration<double>(o.poll_interval_s)),
                    loadgen);
  ConnectorObserver conn(std::move(*connector));
  // The connector first: it knows each child's life, and so the helpers.
  std::vector<Observer*> observers = {&conn, &poll};
  for (auto* ob : observers) ob->start();
  auto [summary, status] = run_loadgen(o, loadgen);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last exits' events
  for (auto* ob : observers) ob->stop();

  if (summary.is_discarded() || !summary.contains("spawned")) {
    std::cerr << "short_lived_bench: loadgen exited " << status << " without a summary\n";
    return 1;
  }
  const auto spawned = summary.value("spawned", std::size_t{0});
  const auto helper_ns = static_cast<std::uint64_t>(o.helper_life_s * 1e9);
  nlohmann::json out = {{"loadgen",
                         {{"exit_status", status},
                          {"asked", summary.value("asked", 0)},
                          {"spawned", spawned},
                          {"shed", summary.value("shed", 0)},
                          {"start_lag_ms_p99", summary["start_lag_ms"].value("p99", 0.0)}}},
                        {"poll_cycles", poll.cycles()}};
  std::printf("loadgen: %zu children started (asked %d, shed %d, exit %d); %zu poll cycles\n",
              spawned, summary.value("asked", 0), summary.value("shed", 0), status, poll.cycles());
  std::unordered_set<pid_t> helpers;
  for (auto* ob : observers) {
    Tally t = ob->tally(loadgen.load(), helper_ns, helpers);
    helpers.insert(t.helper_pids.begin(), t.helper_pids.end());
    const double share =
        spawned ? 100.0 * static_cast<double>(t.children) / static_cast<double>(spawned) : 0;
    nlohmann::json j = {{"seen", t.children}, {"share_pct", share}, {"helpers", t.helpers}};
    std::printf("%-9s saw %6zu (%5.1f %%) of them; helpers %zu", ob->name(), t.children, share,
                t.helpers);
    if (ob == &conn) {
      std::sort(t.exit_delay_ms.begin(), t.exit_delay_ms.end());
      const double p50 = percentile(t.exit_delay_ms, 0.50), p99 = percentile(t.exit_delay_ms, 0.99),
                   max = t.exit_delay_ms.empty() ? 0 : t.exit_delay_ms.back();
      j.update({{"forks", t.forks},
                {"execs", t.execs},
                {"exits", t.exits},
                {"overflows", t.overflows},
                {"exit_delay_ms", {{"p50", p50}, {"p99", p99}, {"max", max}}}});
      std::printf(
          "; forks %zu, execs %zu, exits %zu, overflows %llu\n"
          "          exit delivered after (kernel timestamp -> drain): "
          "p50 %.3f ms, p99 %.3f ms, max %.3f ms",
          t.forks, t.execs, t.exits, static_cast<unsigned long long>(t.overflows), p50, p99, max);
    }
    std::printf("\n");
    out[ob->name()] = j;
  }
  if (!o.json_out.empty()) {
    std::ofstream f(o.json_out);
    f << out.dump(2) << "\n";
    if (!f) {
      std::cerr << "short_lived_bench: cannot write " << o.json_out << "\n";
      return 1;
    }
  }
  // 3: loadgen shed starts it could not make in time (a busy machine): the
  // figures stand, against what it did start.
  if (status == 3) std::cerr << "short_lived_bench: loadgen shed starts (exit 3)\n";
  return status == 0 || status == 3 ? 0 : 1;
}
