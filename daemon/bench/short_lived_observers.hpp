#pragma once
// short_lived_bench's observers: each watches loadgen's children its own way
// (a 1 s collector poll, the netlink connector, procmond run through a
// subscriber) on a thread of its own, and tallies what it saw and how late.

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

namespace short_lived {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as the kernel's timestamps
using namespace std::chrono_literals;

// "1s", "0.5s": procmond's duration syntax, and for people.
inline std::string seconds_text(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", std::chrono::duration<double>(d).count());
  return buf;
}

// What the connector observer knows of loadgen's churn children, for the
// others: its helpers, and the kernel's exit timestamps.
struct Reference {
  std::unordered_set<pid_t> helpers;
  std::unordered_map<pid_t, std::vector<std::uint64_t>> exits_ns;  // by pid, in time order

  // The kernel's timestamp of the latest exit of `pid` at or before `t`; 0
  // when it knows none (not one of loadgen's children).
  std::uint64_t exit_before(pid_t pid, std::uint64_t t) const {
    const auto it = exits_ns.find(pid);
    if (it == exits_ns.end()) return 0;
    const auto after = std::upper_bound(it->second.begin(), it->second.end(), t);
    return after == it->second.begin() ? 0 : *(after - 1);
  }
};

// What one observer saw of loadgen's churn children.
struct Tally {
  std::size_t children = 0;  // churn children seen at all
  // Children whose start and whose end it saw (the connector: fork and exit;
  // the daemon: started and exited events), and both; none for a poll.
  std::optional<std::size_t> starts, ends, both;
  std::size_t helpers = 0;            // loadgen's long-lived helpers, left out of the above
  std::vector<double> exit_delay_ms;  // kernel's exit timestamp -> delivered to us
  nlohmann::json extra = nlohmann::json::object();  // the view's own figures
  std::string note;                                 // the same for people, one line
  Reference reference;                              // the connector's, for the others
};

// The observers learn loadgen's pid after they start (they must be watching
// before its first fork); they keep what may be needed until then.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual const char* name() const = 0;  // its key in --json and --metrics
  virtual std::string label() const = 0;
  virtual void start() = 0;
  virtual void stop() = 0;  // after loadgen has exited
  // `known`: what the connector observer (tallied first) knows.
  virtual Tally tally(pid_t loadgen, std::uint64_t helper_life_ns,
                      const Reference& known) const = 0;
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
  std::string label() const override {
    return "collector every " + seconds_text(interval_) + " (ours)";
  }
  Tally tally(pid_t loadgen, std::uint64_t helper_life_ns, const Reference& known) const override {
    Tally t;
    for (const auto& [key, sighting] : seen_) {
      if (key.first != loadgen) continue;
      const auto pid = static_cast<pid_t>(key.second >> 32);
      if (known.helpers.contains(pid) || sighting.last_ns - sighting.first_ns > helper_life_ns)
        ++t.helpers;
      else
        ++t.children;
    }
    t.extra = {{"cycles", cycles_}};
    t.note = std::to_string(cycles_) + " cycles";
    return t;
  }

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
  std::string label() const override { return "proc connector (our drain)"; }
  Tally tally(pid_t loadgen, std::uint64_t helper_life_ns, const Reference&) const override {
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
    std::size_t execs = 0, exits = 0;
    for (const auto& c : done) {
      const std::uint64_t end = c.exit ? c.exit->event.mono_ns : last_ns_;
      if (end - c.fork_ns > helper_life_ns) {
        ++t.helpers;
        t.reference.helpers.insert(c.pid);
        continue;
      }
      ++t.children;
      execs += c.execs;
      if (!c.exit) continue;
      ++exits;
      t.reference.exits_ns[c.pid].push_back(c.exit->event.mono_ns);
      t.exit_delay_ms.push_back(static_cast<double>(c.exit->delivered_ns - c.exit->event.mono_ns) /
                                1e6);
    }
    for (auto& [pid, times] : t.reference.exits_ns) std::sort(times.begin(), times.end());
    t.starts = t.children;  // a child is one whose fork it saw
    t.ends = t.both = exits;
    const auto overflows = connector_.overflows();
    t.extra = {{"forks", t.children}, {"execs", execs}, {"exits", exits}, {"overflows", overflows}};
    t.note = std::to_string(execs) + " execs, " + std::to_string(overflows) + " overflows";
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

// procmond run end to end: the daemon (started here, before loadgen, in a
// temporary directory) and a subscriber on this observer's thread that keeps
// every started and exited event with the moment its frame reached us.
class DaemonObserver final : public ThreadedObserver {
 public:
  // Returns once the daemon has its baseline and we are subscribed. Throws
  // std::runtime_error when it does not start or refuses the subscription.
  DaemonObserver(const char* name, std::vector<std::string> args, const std::string& procmond)
      : name_(name),
        label_(label_of(args)),
        daemon_(std::move(args), procmond),
        client_(procmond::Client::connect(daemon_.socket())) {
    // Its connector's events count only once the first cycle has set the
    // baseline, which takes seconds on a loaded machine: wait for it,
    // then subscribe (a subscriber that does not read would fall behind).
    const auto deadline = Clock::now() + 60s;
    for (auto status = daemon_.status(); status.value("cycles", 0) == 0;
         status = daemon_.status()) {
      if (Clock::now() > deadline)
        throw std::runtime_error(label_ + " did not finish its first cycle in 60 s");
      std::this_thread::sleep_for(10ms);
    }
    client_.request({{"op", "subscribe"}});
    for (;;) {
      const auto f = client_.next();
      if (!f) throw std::runtime_error(label_ + " closed the connection: " + daemon_.log());
      if (f->type != procmond::wire::FrameType::kControl) continue;
      const auto reply = nlohmann::json::parse(f->body, nullptr, false);
      if (!reply.is_discarded() && reply.value("type", "") == "subscribed") break;
      throw std::runtime_error(label_ + " refused the subscription: " + std::string(f->body));
    }
    source_ = daemon_.status().value("source", "?");
    events_.reserve(1 << 16);
  }
  const char* name() const override { return name_; }
  std::string label() const override { return label_; }

  // Children whose parent on `started` is loadgen, and the exited event of
  // each; an exited event of a pid the connector saw exit as loadgen's child
  // (parent unknown: a fork missed) counts as one seen by its end alone.
  Tally tally(pid_t loadgen, std::uint64_t, const Reference& known) const override {
    struct Child {
      bool started = false, exited = false;
    };
    std::unordered_map<pid_t, std::size_t> open;  // pid -> its child, until its exited event
    std::vector<Child> children;
    std::size_t unmatched = 0, exited_by_poll = 0;
    Tally t;
    for (const auto& r : events_) {
      if (known.helpers.contains(r.pid)) {
        t.helpers += r.kind == procmond::EventKind::kStarted && r.ppid == loadgen;
        continue;
      }
      if (r.kind == procmond::EventKind::kStarted) {
        if (r.ppid != loadgen) continue;
        open[r.pid] = children.size();
        children.push_back({true, false});
        continue;
      }
      const std::uint64_t exit_ns = known.exit_before(r.pid, r.received_ns);
      if (const auto it = open.find(r.pid); it != open.end()) {
        children[it->second].exited = true;
        open.erase(it);
      } else if (r.ppid == loadgen || exit_ns != 0) {
        children.push_back({false, true});
      } else {
        continue;
      }
      exited_by_poll += r.source == procmond::EventSource::kPoll;
      if (exit_ns == 0)
        ++unmatched;
      else
        t.exit_delay_ms.push_back(static_cast<double>(r.received_ns - exit_ns) / 1e6);
    }
    std::size_t starts = 0, ends = 0, both = 0;
    for (const auto& c : children) {
      starts += c.started;
      ends += c.exited;
      both += c.started && c.exited;
    }
    t.children = children.size();
    t.starts = starts;
    t.ends = ends;
    t.both = both;
    const auto& bp = status_.contains("backpressure") ? status_["backpressure"] : nlohmann::json{};
    t.extra = {{"started", starts},
               {"exited", ends},
               {"both", both},
               {"exited_by_poll", exited_by_poll},
               {"exits_without_kernel_time", unmatched},
               {"undecodable_frames", undecodable_},
               {"slow_warnings", slow_},
               {"source", source_},
               {"closed_early", closed_early_},
               {"error", error_},
               {"status",
                {{"cycles", status_.value("cycles", 0)},
                 {"connector_events", status_.value("connector_events", 0)},
                 {"rescans", status_.value("rescans", 0)},
                 {"interval_stretches", bp.value("stretches", 0)},
                 {"slow_disconnects", status_.value("slow_disconnects", 0)},
                 {"wal_sync", status_.contains("wal") ? status_["wal"].value("sync", "?") : "?"}}}};
    t.note = "source " + source_ + ", " + std::to_string(status_.value("cycles", 0)) + " cycles, " +
             std::to_string(status_.value("rescans", 0)) + " rescans, " +
             std::to_string(exited_by_poll) + " exits by poll, " + std::to_string(unmatched) +
             " without a kernel exit time";
    if (closed_early_) t.note += "; the daemon closed the stream early";
    if (!error_.empty()) t.note += "; " + error_;
    return t;
  }
  // What went wrong with the stream, if anything: the figures are then short.
  bool failed() const { return closed_early_ || !error_.empty() || undecodable_ > 0; }

 private:
  struct Received {
    procmond::EventKind kind;
    procmond::EventSource source;
    pid_t pid, ppid;
    std::uint64_t received_ns;
  };
  static std::string label_of(const std::vector<std::string>& args) {
    std::string s = "procmond run";
    for (const auto& a : args) s += " " + a;
    return s;
  }
  void run() override {
    try {
      while (!stopping() && !closed_early_) read_frame(50);  // wakes to look at stop_
      while (!closed_early_ && read_frame(0)) {
      }
    } catch (const std::exception& e) {
      error_ = e.what();
    }
    try {
      status_ = daemon_.status();
    } catch (const std::exception& e) {
      if (error_.empty()) error_ = e.what();
    }
    if (const int status = daemon_.stop(); status != 0 && error_.empty())
      error_ = "procmond exited " + std::to_string(status) + ": " + daemon_.log();
  }
  // One frame if one comes within timeout_ms; false when none came or the
  // stream ended.
  bool read_frame(int timeout_ms) {
    if (!client_.ready()) {
      pollfd p{client_.fd(), POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
    }
    const auto f = client_.next();
    if (!f) {
      closed_early_ = true;
      return false;
    }
    const std::uint64_t now = procmond::monotonic_now_ns();
    if (f->type == procmond::wire::FrameType::kEvent) {
      if (!procmond::decode(f->body, event_)) {
        ++undecodable_;
      } else if (event_.kind == procmond::EventKind::kStarted ||
                 event_.kind == procmond::EventKind::kExited) {
        events_.push_back({event_.kind, event_.source, event_.pid, event_.ppid, now});
      }
    } else if (f->type == procmond::wire::FrameType::kControl) {
      // slow or bye: the stream is short of events from here on.
      const auto j = nlohmann::json::parse(f->body, nullptr, false);
      const std::string type = j.is_discarded() ? "?" : j.value("type", "?");
      if (type == "slow") ++slow_;
      if (type == "bye") error_ = "procmond said " + std::string(f->body);
    }
    return true;
  }

  const char* name_;
  std::string label_;
  procmond::testsupport::DaemonProcess daemon_;
  procmond::Client client_;
  std::string source_;
  procmond::Event event_;  // decoded into, its strings reused
  std::vector<Received> events_;
  std::size_t undecodable_ = 0;
  std::size_t slow_ = 0;  // "slow" control messages: this subscriber fell behind
  bool closed_early_ = false;
  std::string error_;
  nlohmann::json status_ = nlohmann::json::object();
};

}  // namespace short_lived
