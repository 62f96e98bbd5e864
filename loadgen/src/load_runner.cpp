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

#include "monotonic.hpp"
#include "process_group.hpp"
#include "procfs/quick_read.hpp"
#include "run_tally.hpp"
#include "spawner.hpp"
#include "stop_queue.hpp"

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

// A child of ours, by the schedule index it was started for.
struct LiveChild {
  std::uint64_t index;
  bool stopped;  // killed by us, not yet reaped
};

pid_t wait_for(pid_t pid, int flags) {
  int status;
  pid_t r;
  while ((r = ::waitpid(pid, &status, flags)) < 0 && errno == EINTR) {
  }
  return r;
}

// One run's state: who is alive, who is due to stop, who was killed and is
// still to be reaped, and how late each start and stop was. The loop in
// run_load() drives it.
class LoadRun {
 public:
  LoadRun(const RunOptions& o, Schedule& schedule)
      : schedule_(schedule), max_live_(std::max<std::size_t>(1, schedule.peak_live())), tally_(o) {
    // Headroom: a killed child keeps its clone stack slot until it is reaped.
    spawner_ = make_spawner(o, max_live_ + max_live_ / 4 + 64, group_.id());
    live_.reserve(max_live_);
    t0_ = monotonic_seconds();
  }

  double now() const { return monotonic_seconds() - t0_; }
  double t0() const { return t0_; }

  // Kills every child whose stop time has come, if it is still the child
  // scheduled (a pid reaped and reused is another child).
  void stop_due(double t) {
    stops_.pop_due(
        t,
        [&](pid_t pid, std::uint64_t index) {
          auto it = live_.find(pid);
          return it != live_.end() && it->second.index == index && !it->second.stopped;
        },
        [&](const StopQueue::Due& d) {
          ::kill(d.pid, SIGKILL);
          tally_.stopped(now() - d.stop_s);
          live_[d.pid].stopped = true;
          dying_.emplace_back(d.pid, d.index);
        });
  }

  // Starts every child whose start time has come, in batches (the zygote
  // takes a batch in one request; stops are served between children). A start
  // whose child's life is already over is shed, as is one past the end or
  // one that would put more children alive than asked. Returns early on a
  // stop request.
  void start_due(const volatile std::sig_atomic_t* stop) {
    constexpr std::size_t kBatch = 64;  // between batches: the end, reaping, signals
    while (*stop == 0) {
      const double t = now();
      stop_due(t);
      if (past_hard_end(t)) return;
      batch_.clear();
      while (batch_.size() < kBatch && schedule_.next_start() <= t) {
        const ScheduledChild c = *schedule_.next();
        if (c.stop_s <= t) {
          tally_.shed();  // it would live no time at all: starting it only adds to the lag
          continue;
        }
        batch_.push_back(c);
      }
      if (batch_.empty()) return;
      const std::size_t n = make_room(batch_.size());
      tally_.shed(batch_.size() - n);
      if (n == 0) continue;
      if (first_spawn_ < 0) first_spawn_ = monotonic_seconds();
      std::size_t i = 0;
      spawner_->spawn_many(n, [&](const SpawnResult& r, double seconds) {
        record(batch_[i++], r, seconds);
        stop_due(now());
      });
      reap_dying(false);
    }
  }

  // Reaps the children we killed, by pid: waitpid(-1) walks the kernel's list
  // of children past every living one, which at 10,000 live costs more than
  // the spawn. With `block`, waits for the oldest one at least.
  void reap_dying(bool block) {
    while (!dying_.empty()) {
      const auto [pid, index] = dying_.front();
      // Already reaped by sweep(): its pid may by now be a new child of ours,
      // which must not be waited for (pid_max here is 32,768; churn wraps it).
      if (auto it = live_.find(pid); it == live_.end() || it->second.index != index) {
        dying_.pop_front();
        continue;
      }
      const pid_t r = wait_for(pid, block ? 0 : WNOHANG);
      if (r == 0) break;  // not dead yet; the rest were killed later
      if (r == pid) account(pid, false);
      dying_.pop_front();
      block = false;
    }
  }

  // Reaps whatever else has ended: children that died on their own, and
  // grandchildren handed to us as subreaper.
  void sweep() {
    pid_t pid;
    while ((pid = wait_for(-1, WNOHANG)) > 0) account(pid, false);
  }

  // The time the loop must wake next, in seconds since the start.
  double next_wake() const { return std::min({end(), schedule_.next_start(), stops_.next_stop()}); }
  bool done(double t) const {
    return past_hard_end(t) || (schedule_.next_start() == kUntilEnd && t >= end());
  }
  Progress progress(double t) const {
    const Summary& s = tally_.so_far();
    return {.elapsed_s = t,
            .spawned = s.spawned,
            .live = live_.size(),
            .failed = s.failed,
            .shed = s.shed,
            .every_start_done = schedule_.next_start() == kUntilEnd,
            .start_lag_max_ms = tally_.start_lag_max_ms(),
            .group = group_.id()};
  }

  // Kills every child, oldest first, and reaps them by pid (for 10,000: hash
  // order with waitpid(-1) took 0.7 s, oldest first 0.35-0.55 s, by pid
  // 0.2-0.3 s); then, the last step, the whole group, which holds whatever
  // nobody tracks; then reaps everything left until none is.
  Summary teardown(int interrupted_by) {
    const double start = monotonic_seconds();
    if (!interrupted_by && past_hard_end(start - t0_)) {
      while (schedule_.next()) tally_.shed();  // the starts the end came before
    }
    spawner_->shutdown();
    std::vector<std::pair<std::uint64_t, pid_t>> order;
    order.reserve(live_.size());
    for (const auto& [pid, child] : live_) order.emplace_back(child.index, pid);
    std::sort(order.begin(), order.end());
    for (const auto& [index, pid] : order) ::kill(pid, SIGKILL);
    for (const auto& [index, pid] : order)
      if (wait_for(pid, 0) == pid) account(pid, true);  // the dying ones too
    dying_.clear();
    group_.kill_all();
    pid_t pid;
    while ((pid = wait_for(-1, 0)) > 0) account(pid, true);  // until ECHILD
    const RunTally::Times times{.first_spawn_s = first_spawn_,
                                .last_spawn_s = last_spawn_,
                                .teardown_start_s = start,
                                .teardown_s = monotonic_seconds() - start,
                                .schedule_elapsed_s = start - t0_};
    return tally_.finish(schedule_, times, interrupted_by, own_peak_rss_bytes());
  }

 private:
  // steady and burst hold the load after the last start, however late it was.
  double end() const {
    return schedule_.end_s() + (schedule_.end_follows_last_start() ? tally_.last_start_lag_s() : 0);
  }
  bool past_hard_end(double t) const {
    return !schedule_.end_follows_last_start() && t >= schedule_.end_s();
  }

  // How many of `wanted` starts fit under the live count asked (and the
  // spawner's room): killed children are reaped first, then the dead swept.
  std::size_t make_room(std::size_t wanted) {
    auto room = [&] {
      return std::min(spawner_->room(), max_live_ - std::min(max_live_, live_.size()));
    };
    while (room() < wanted && !dying_.empty()) reap_dying(/*block=*/true);
    if (room() < wanted) sweep();
    return std::min(room(), wanted);
  }

  void record(const ScheduledChild& child, const SpawnResult& r, double seconds) {
    if (r.pid <= 0) {
      tally_.failed(r);
      return;
    }
    const double at = now();
    last_spawn_ = at + t0_;
    live_.emplace(r.pid, LiveChild{child.index, false});
    if (child.stop_s != kUntilEnd) stops_.push(child.stop_s, child.index, r.pid);
    tally_.started(r, at - child.start_s, seconds, live_.size());
  }

  void account(pid_t pid, bool in_teardown) {
    spawner_->reaped(pid);
    group_.reaped(pid);
    auto it = live_.find(pid);
    if (it == live_.end()) return;  // a grandchild, or the group's anchor
    if (in_teardown) {
      tally_.reaped_in_teardown();
    } else {
      tally_.exited(it->second.stopped);
    }
    live_.erase(it);
  }

  Schedule& schedule_;
  const std::size_t max_live_;  // never more alive (killed but unreaped included)
  RunTally tally_;
  ProcessGroup group_;  // before the spawner: it outlives every child
  std::unique_ptr<Spawner> spawner_;
  std::unordered_map<pid_t, LiveChild> live_;
  StopQueue stops_;
  std::deque<std::pair<pid_t, std::uint64_t>> dying_;  // killed, oldest first, not yet reaped
  std::vector<ScheduledChild> batch_;
  double t0_ = 0, first_spawn_ = -1, last_spawn_ = 0;
};

}  // namespace

Summary run_load(const RunOptions& o, Schedule& schedule, const volatile std::sig_atomic_t* stop,
                 const std::function<void(const Progress&)>& progress) {
  // Orphaned grandchildren (a tree's) come to us, so that we reap them too.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  LoadRun run(o, schedule);
  double last_progress = -1, last_sweep = 0;
  while (*stop == 0) {
    double t = run.now();
    run.stop_due(t);
    run.start_due(stop);
    run.reap_dying(false);
    t = run.now();
    if (t - last_sweep >= 0.05) {
      run.sweep();
      last_sweep = t;
    }
    if (t - last_progress >= 0.25) {
      progress(run.progress(t));
      last_progress = t;
    }
    if (run.done(t)) break;
    sleep_until(run.t0() + std::min(run.next_wake(), t + 0.05));  // wake at least every 50 ms
  }
  return run.teardown(static_cast<int>(*stop));
}

}  // namespace loadgen
