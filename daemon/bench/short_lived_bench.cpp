// What polling misses: loadgen churns short-lived children while four
// observers watch in one run, each on its own thread:
// - poll: the collector (make_collector()) every --poll-interval, counting
//   loadgen's children that appear in any snapshot;
// - connector: the netlink proc connector, counting their forks and exits,
//   and the delay from the kernel's exit timestamp to our drain delivering
//   it (CLOCK_MONOTONIC both);
// - procmond --connector on, and procmond --connector off --interval
//   (--poll-interval): the daemon end to end. Each is started before loadgen
//   (DaemonProcess: a temporary directory, SIGTERM at the end) with a
//   subscriber that decodes every event frame; a child counts when the
//   stream has its `started` (parent = loadgen) and/or its `exited`, and the
//   delay is from the kernel's exit timestamp (the connector observer's) to
//   the exited event's frame reaching the subscriber (CLOCK_MONOTONIC both).
//
//   short_lived_bench [--live 50] [--life 50ms] [--duration 10s] [--poll-interval 1s]
//                     [--loadgen build/bin/loadgen] [--procmond build/bin/procmond]
//                     [--no-daemons] [--daemon-arg=ARG ...] [--json FILE] [--metrics FILE]
//
// Needs root (the connector). loadgen's children are told apart by parent:
// loadgen's pid (the zygote forks with CLONE_PARENT). loadgen's two helpers
// (its group's anchor and the zygote) are its children too, alive the whole
// run: a child that lived longer than --helper-life (by the connector's fork
// and exit, or between the poll's first and last sight) counts as a helper,
// not as a churn child. Exit status: 0 measured (also when loadgen shed
// starts on a busy machine: the share is of those it started); 1 an error
// (loadgen failed, no connector, a daemon failed); 2 bad arguments.

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
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collector.hpp"
#include "connector/proc_connector.hpp"
#include "ctl/client.hpp"
#include "daemon_process.hpp"
#include "events/event.hpp"
#include "events/event_codec.hpp"
#include "run/wire.hpp"
#include "short_lived_observers.hpp"

namespace {

using namespace std::chrono_literals;

// The users' bound on the delay from a process's exit to its exited event
// reaching a subscriber.
constexpr double kUsersBoundMs = 500;

using namespace short_lived;

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
  std::string procmond;
  bool daemons = true;
  std::vector<std::string> daemon_args;
  std::string json_out;
  std::string metrics_out;
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

struct DelayStats {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

DelayStats delay_stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return {};
  return {ms.size(), percentile(ms, 0.50), percentile(ms, 0.99), ms.back()};
}

double share_pct(std::size_t n, std::size_t of) {
  return of ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0;
}

// One observer's figures: its --json object, and its row of the table.
nlohmann::json figures(const Tally& t, std::size_t spawned) {
  nlohmann::json j = {
      {"seen", t.children}, {"share_pct", share_pct(t.children, spawned)}, {"helpers", t.helpers}};
  if (t.ends) {
    const DelayStats d = delay_stats(t.exit_delay_ms);
    j.update({{"started_share_pct", share_pct(*t.starts, spawned)},
              {"exited_share_pct", share_pct(*t.ends, spawned)},
              {"both_share_pct", share_pct(*t.both, spawned)},
              {"exit_delay_ms", {{"n", d.n}, {"p50", d.p50}, {"p99", d.p99}, {"max", d.max}}}});
  }
  j.update(t.extra);
  return j;
}

void print_row(int width, const std::string& label, const Tally& t, std::size_t spawned) {
  std::printf("%-*s %6zu %5.1f %%", width, label.c_str(), t.children,
              share_pct(t.children, spawned));
  if (!t.ends) {
    std::printf(" %7s %7s %7s  %s\n", "-", "-", "-", "-");
    return;
  }
  std::printf(" %7zu %7zu %7zu", *t.starts, *t.ends, *t.both);
  const DelayStats d = delay_stats(t.exit_delay_ms);
  if (d.n == 0)
    std::printf("  -\n");
  else
    std::printf("  %.3f / %.3f / %.3f\n", d.p50, d.p99, d.max);
}

// The figures as perfkit.run/1 metrics ({"metrics": [...]}, for `perfkit
// import metrics-json`): one process run, one sample each, short_lived.VIEW.*.
nlohmann::json metrics_of(const nlohmann::json& out) {
  auto metric = [](const std::string& name, const char* unit, const char* better, double value) {
    return nlohmann::json{{"name", "short_lived." + name},
                          {"unit", unit},
                          {"better", better},
                          {"samples", {value}},
                          {"runs", {1}},
                          {"portable", false}};
  };
  nlohmann::json ms = nlohmann::json::array();
  ms.push_back(metric("loadgen.spawned", "count", "higher", out["loadgen"]["spawned"]));
  ms.push_back(metric("loadgen.shed", "count", "lower", out["loadgen"]["shed"]));
  for (const char* view : {"poll", "connector", "daemon_connector", "daemon_poll"}) {
    if (!out.contains(view)) continue;
    const auto& v = out[view];
    const std::string at = std::string(view) + ".";
    ms.push_back(metric(at + "seen_share", "percent", "higher", v["share_pct"]));
    if (!v.contains("exit_delay_ms")) continue;
    ms.push_back(metric(at + "exited_share", "percent", "higher", v["exited_share_pct"]));
    if (v.contains("started")) {  // a daemon: started and exited are separate events
      ms.push_back(metric(at + "started_share", "percent", "higher", v["started_share_pct"]));
      ms.push_back(metric(at + "both_share", "percent", "higher", v["both_share_pct"]));
    }
    const auto& d = v["exit_delay_ms"];
    if (d["n"] == 0) continue;
    for (const char* q : {"p50", "p99", "max"}) {
      ms.push_back(metric(at + "exit_delay_" + q + "_ms", "ms", "lower", d[q]));
      // The users' bound, on the daemon with its connector.
      if (std::string_view(view) == "daemon_connector" && std::string_view(q) == "p99")
        ms.back()["target"] = kUsersBoundMs;
    }
  }
  return {{"metrics", ms}};
}

bool write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream f(path);
  f << j.dump(2) << "\n";
  if (f) return true;
  std::cerr << "short_lived_bench: cannot write " << path << "\n";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const auto here = std::filesystem::canonical("/proc/self/exe").parent_path();
  o.loadgen = (here / "loadgen").string();
  o.procmond = (here / "procmond").string();
  CLI::App app{
      "short_lived_bench: what a 1 s /proc poll misses of short-lived processes, "
      "against the netlink proc connector and procmond run end to end"};
  app.add_option("--live", o.live, "loadgen --count: children alive at once")
      ->capture_default_str();
  app.add_option("--life", o.life, "each child's life (loadgen's duration syntax)")
      ->capture_default_str();
  app.add_option("--duration", o.duration, "how long loadgen churns")->capture_default_str();
  app.add_option("--poll-interval", o.poll_interval_s,
                 "seconds between collector cycles (ours, and the polling daemon's --interval)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--helper-life", o.helper_life_s,
                 "a child of loadgen alive longer (s) is one of its helpers, not churn")
      ->capture_default_str();
  app.add_option("--loadgen", o.loadgen, "loadgen binary")->capture_default_str();
  app.add_option("--procmond", o.procmond, "procmond binary")->capture_default_str();
  app.add_flag("!--no-daemons", o.daemons, "leave procmond run out (the sources alone)");
  app.add_option("--daemon-arg", o.daemon_args,
                 "one more argument for both daemons (repeat it: --daemon-arg=--wal-sync "
                 "--daemon-arg=never)");
  app.add_option("--json", o.json_out, "also write the figures as JSON to FILE");
  app.add_option("--metrics", o.metrics_out,
                 "also write them as perfkit metrics JSON (short_lived.*) to FILE");
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

  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(o.poll_interval_s));
  // The daemons first, each subscribed before loadgen's first fork.
  std::vector<std::unique_ptr<DaemonObserver>> daemons;
  auto daemon_args = [&](std::vector<std::string> args) {
    args.insert(args.end(), o.daemon_args.begin(), o.daemon_args.end());
    return args;
  };
  if (o.daemons) try {
      daemons.push_back(std::make_unique<DaemonObserver>(
          "daemon_connector", daemon_args({"--connector", "on"}), o.procmond));
      daemons.push_back(std::make_unique<DaemonObserver>(
          "daemon_poll", daemon_args({"--connector", "off", "--interval", seconds_text(interval)}),
          o.procmond));
    } catch (const std::exception& e) {
      std::cerr << "short_lived_bench: " << e.what() << "\n";
      return 1;
    }

  std::atomic<pid_t> loadgen{0};
  PollObserver poll(interval, loadgen);
  ConnectorObserver conn(std::move(*connector));
  // The connector first: it knows each child's life (so the helpers) and
  // each exit's kernel timestamp.
  std::vector<Observer*> observers = {&conn, &poll};
  for (auto& d : daemons) observers.push_back(d.get());
  for (auto* ob : observers) ob->start();
  auto [summary, status] = run_loadgen(o, loadgen);
  // The last exits' events: a polling daemon reports them at its next cycle.
  std::this_thread::sleep_for(daemons.empty() ? std::chrono::nanoseconds(200ms)
                                              : interval + std::chrono::nanoseconds(500ms));
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
                          {"start_lag_ms_p99", summary["start_lag_ms"].value("p99", 0.0)}}}};
  std::printf(
      "loadgen: %zu children started (asked %d, shed %d, exit %d; start lag p99 %.1f ms)\n\n",
      spawned, summary.value("asked", 0), summary.value("shed", 0), status,
      summary["start_lag_ms"].value("p99", 0.0));
  std::size_t width = 0;
  for (auto* ob : observers) width = std::max(width, ob->label().size());
  const int w = static_cast<int>(width);
  std::printf("%-*s %6s %7s %7s %7s %7s  %s\n", w, "observer", "seen", "share", "started", "exited",
              "both", "exit -> delivered, ms p50 / p99 / max");
  Reference known;
  std::vector<std::string> notes;
  for (auto* ob : observers) {
    Tally t = ob->tally(loadgen.load(), helper_ns, known);
    if (ob == &conn) known = std::move(t.reference);
    print_row(w, ob->label(), t, spawned);
    notes.push_back(std::string(ob->name()) + ": " + std::to_string(t.helpers) +
                    " helpers left out; " + t.note);
    out[ob->name()] = figures(t, spawned);
  }
  std::printf("\n");
  for (const auto& n : notes) std::printf("%s\n", n.c_str());
  if (!o.json_out.empty() && !write_json(o.json_out, out)) return 1;
  if (!o.metrics_out.empty() && !write_json(o.metrics_out, metrics_of(out))) return 1;
  bool failed = false;
  for (const auto& d : daemons)
    if (d->failed()) {
      std::cerr << "short_lived_bench: " << d->label() << ": its stream fell short\n";
      failed = true;
    }
  // 3: loadgen shed starts it could not make in time (a busy machine): the
  // figures stand, against what it did start.
  if (status == 3) std::cerr << "short_lived_bench: loadgen shed starts (exit 3)\n";
  return (status == 0 || status == 3) && !failed ? 0 : 1;
}
