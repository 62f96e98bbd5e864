#include "run_command.hpp"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <optional>
#include <system_error>

namespace loadgen {
namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int sig) {
  g_stop = sig;
}

// SIGINT, SIGTERM and SIGHUP end the run through teardown, never mid-spawn.
// No SA_RESTART: the runner's sleep returns at once. Restored on scope exit.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old_pipe_);  // a closed progress pipe is not a reason to die
  }
  ~StopSignals() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals{SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> old_{};
  struct sigaction old_pipe_ {};
};

// Written beside the target and renamed over it: a reader never sees half a file.
void write_json_atomically(const std::string& path, const nlohmann::json& doc) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << doc.dump(2) << '\n';
    f.flush();
    if (!f) throw std::system_error(errno, std::generic_category(), "write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

void print_summary(const Summary& s, std::ostream& out) {
  fmt::print(out, "loadgen {} {} x{} via {}{}\n", s.profile, s.kind, s.count, s.spawner,
             s.interrupted_by ? fmt::format(" (interrupted by signal {})", s.interrupted_by) : "");
  fmt::print(out, "  spawned  {} of {} asked, {} failed, {} shed", s.spawned, s.asked, s.failed,
             s.shed);
  for (const auto& [reason, n] : s.failure_reasons) fmt::print(out, " [{}: {}]", reason, n);
  // What was delivered against the schedule: a late start is a start not made when asked.
  fmt::print(out, "\n  lag      start p50 {:.2f} ms p99 {:.2f} ms max {:.2f} ms",
             s.start_lag.p50_ms, s.start_lag.p99_ms, s.start_lag.max_ms);
  if (s.stop_lag.count)
    fmt::print(out, "; stop p50 {:.2f} ms p99 {:.2f} ms max {:.2f} ms", s.stop_lag.p50_ms,
               s.stop_lag.p99_ms, s.stop_lag.max_ms);
  if (s.asked_per_s > 0) fmt::print(out, "; {:.0f} starts/s asked", s.asked_per_s);
  if (s.processes_asked != s.spawned)  // a tree: its nodes as made, not as asked
    fmt::print(out, "\n  tree     {} of {} processes made", s.processes_made, s.processes_asked);
  fmt::print(out,
             "\n  spawn    {:.3f} s, {:.0f}/s, latency p50 {:.1f} us p95 {:.1f} us p99 {:.1f} us\n",
             s.spawn_seconds, s.rate_per_s, s.spawn_latency_us.p50, s.spawn_latency_us.p95,
             s.spawn_latency_us.p99);
  fmt::print(
      out,
      "  load     {:.2f} s, peak {} live, {} exits ({} not stopped by us), {:.0f} starts+exits/s\n",
      s.load_seconds, s.peak_live, s.exits, s.died_early, s.churn_per_s);
  fmt::print(out, "  teardown {:.3f} s, {} reaped; loadgen peak RSS {:.1f} MiB\n",
             s.teardown_seconds, s.reaped_in_teardown,
             static_cast<double>(s.peak_rss_bytes) / (1 << 20));
}

// One line that rewrites itself on a terminal; a line every 5 s into a log.
class ProgressLine {
 public:
  ProgressLine(std::ostream& err, bool enabled)
      : err_(err), enabled_(enabled), tty_(::isatty(STDERR_FILENO) == 1) {}
  void operator()(const Progress& p) {
    if (!enabled_ || (!tty_ && p.elapsed_s - last_ < 5.0)) return;
    last_ = p.elapsed_s;
    fmt::print(err_,
               "{}loadgen {:7.2f} s  spawned {}  live {}  failed {}  shed {}  lag max {:.1f} ms{}",
               tty_ ? "\r" : "", p.elapsed_s, p.spawned, p.live, p.failed, p.shed,
               p.start_lag_max_ms, tty_ ? "  " : "\n");
    err_.flush();
    dirty_ = tty_;
  }
  ~ProgressLine() {
    if (dirty_) err_ << '\n';
  }

 private:
  std::ostream& err_;
  bool enabled_, tty_;
  double last_ = -1e9;
  bool dirty_ = false;
};

// Writes the ready file the first time the load stands at `count` live
// children or every start of the schedule is done (a ramp never stands).
class ReadyFile {
 public:
  ReadyFile(std::ostream& err, std::string path, std::size_t count)
      : err_(err), path_(std::move(path)), count_(count) {}
  void operator()(const Progress& p) {
    if (done_ || path_.empty() || (p.live < count_ && !p.every_start_done)) return;
    done_ = true;
    try {  // the load goes on; the harness waiting for the file times out and says so
      write_json_atomically(path_, {{"elapsed_s", p.elapsed_s}, {"live", p.live}});
    } catch (const std::exception& e) {
      fmt::print(err_, "loadgen: could not write --ready-file {}: {}\n", path_, e.what());
    }
  }

 private:
  std::ostream& err_;
  std::string path_;
  std::size_t count_;
  bool done_ = false;
};

}  // namespace

std::string default_helper_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("loadgen-child") : (self.parent_path() / "loadgen-child").string();
}

namespace {

int run_checked(const RunCommandOptions& o, std::ostream& out, std::ostream& err) {
  std::optional<Schedule> schedule;
  try {
    schedule.emplace(o.run.profile);
  } catch (const std::invalid_argument& e) {
    fmt::print(err, "loadgen: {}\n", e.what());
    return 2;
  }
  if (!uses_clone(o.run) && ::access(o.run.helper_path.c_str(), X_OK) != 0) {
    fmt::print(err,
               "loadgen: the helper {} is not executable ({}); build it (it sits beside loadgen) "
               "or pass --helper\n",
               o.run.helper_path, std::strerror(errno));
    return 1;
  }
  // Paths we will write are checked now, not after the whole run.
  for (const auto& [flag, path] :
       {std::pair{"--json", o.json_path}, {"--ready-file", o.ready_file}}) {
    if (path.empty() || path == "-") continue;
    const auto dir = std::filesystem::absolute(path).parent_path();
    if (::access(dir.c_str(), W_OK) != 0) {
      fmt::print(err, "loadgen: cannot write {} {}: {} ({})\n", flag, path, dir.string(),
                 std::strerror(errno));
      return 1;
    }
  }
  const Demand demand = demand_of(o.run, *schedule);
  const auto refusals = check_limits(read_system_limits, demand);
  if (o.dry_run) {
    const bool churn = o.run.profile.profile == Profile::kChurn;
    fmt::print(out,
               "plan: {}{:.0f} children ({} at most alive at once, {} processes with descendants), "
               "{:.2f} s until teardown, spawner {}\n",
               churn ? "about " : "", schedule->expected_starts(), schedule->peak_live(),
               demand.processes, schedule->end_s(), to_string(spawn_path_of(o.run)));
  }
  for (const auto& why : refusals) fmt::print(err, "loadgen: refused: {}\n", why);
  if (!refusals.empty()) return 1;
  if (o.dry_run) return 0;

  Summary summary;
  {
    StopSignals signals;
    ProgressLine line(err, o.progress);
    ReadyFile ready(err, o.ready_file, o.run.profile.count);
    summary = run_load(o.run, *schedule, &g_stop, [&](const Progress& p) {
      ready(p);
      line(p);
    });
  }
  print_summary(summary, out);
  const nlohmann::json doc = to_json(summary);
  if (o.json_path == "-") {
    out << doc.dump(2) << '\n';
  } else if (!o.json_path.empty()) {
    try {
      write_json_atomically(o.json_path, doc);
    } catch (const std::exception& e) {
      fmt::print(err, "loadgen: could not write {}: {}\n", o.json_path, e.what());
      return 1;
    }
  }
  return exit_status(summary);
}

}  // namespace

int exit_status(const Summary& s) {
  if (s.interrupted_by) return 128 + s.interrupted_by;
  if (s.failed || s.processes_made < s.processes_asked) return 1;
  return s.shed ? 3 : 0;
}

int run_command(const RunCommandOptions& o, std::ostream& out, std::ostream& err) {
  try {
    return run_checked(o, out, err);
  } catch (const std::bad_alloc&) {
    fmt::print(err, "loadgen: out of memory\n");
  } catch (const std::exception& e) {  // e.g. the zygote could not be started
    fmt::print(err, "loadgen: {}\n", e.what());
  }
  return 1;
}

}  // namespace loadgen
