// The BPF collector (bpf/bpf_collector.*) against the /proc collector, the
// reference, on real processes: every field of every process both can see.
// One population of 1,000 children of every kind (threads parked or exited,
// a main thread gone before its threads, a reaped child's CPU, zombies,
// stopped, hostile names, a long exec'd argv), beside every kernel thread and
// every other process the machine runs; a pid reused between cycles; an
// exited thread's CPU; a busy process's CPU split over 50 cycles.
//
// Root only, and only where the BPF collector is built in (PROCMOND_HAVE_BPF):
// there, a BPF collector that cannot be made is a failure, not a skip.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bpf_comparison.hpp"
#include "bpf_population.hpp"
#include "collector.hpp"
#include "forked_children.hpp"
#include "procfs/stat.hpp"
#include "procfs/statm.hpp"

namespace procmond {
namespace {

using testing::burn_cpu;
using testing::compare;
using testing::copy_of;
using testing::disagreements;
using testing::find;
using testing::ForkedChildren;
using testing::joined;
using testing::Kind;
using testing::kKernelThreads;
using testing::kOurs;
using testing::Member;
using testing::park;
using testing::Population;
using testing::print;
using testing::proc_dir;
using testing::read_file;
using testing::read_stat;
using testing::ReadyPipe;
using testing::recheck;
using testing::Report;
using testing::run_threads;
using testing::Sandwich;
using testing::Seen;
using testing::Settled;
using testing::take_sandwich;
using testing::View;
using testing::wait_settled;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- The tests ------------------------------------------------------------------

class BpfCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PROCMOND_HAVE_BPF) GTEST_SKIP() << "built without the BPF collector (PROCMOND_HAVE_BPF 0)";
    if (::geteuid() != 0) GTEST_SKIP() << "loading the BPF program needs root";
    try {
      bpf_ = make_collector({.kind = CollectorKind::kBpf});
    } catch (const std::exception& e) {
      FAIL() << "built with BPF and run as root, yet no BPF collector: " << e.what();
    }
    proc_ = make_collector({.kind = CollectorKind::kProc});
  }

  // /proc and both BPF reads agree on every field of a settled process of ours.
  void expect_exact(const Sandwich& s, pid_t pid) {
    const Seen* before = find(s.before, pid);
    const Seen* proc = find(s.proc, pid);
    const Seen* after = find(s.after, pid);
    ASSERT_TRUE(before && proc && after) << "pid " << pid << " missing from a read";
    for (const auto& [field, values] : disagreements(*before, *proc, *after, true))
      ADD_FAILURE() << "pid " << pid << " " << field->name << ": " << values;
  }

  std::unique_ptr<Collector> bpf_, proc_;
};

// RSS: stat's (and BPF's) is the per-CPU counters' folded counts, statm's
// their exact sum; each CPU may hold up to a batch, max(32, 2 * cpus) pages,
// in each of the three counters.
void expect_rss_near_statm(const std::set<pid_t>& pids, const View& bpf) {
  const long cpus = std::max(::sysconf(_SC_NPROCESSORS_CONF), ::sysconf(_SC_NPROCESSORS_ONLN));
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::uint64_t bound = 3 * static_cast<std::uint64_t>(std::max(32L, 2 * cpus) * cpus);
  std::uint64_t largest = 0;
  pid_t largest_pid = 0;
  for (pid_t pid : pids) {
    const auto statm = procfs::parse_statm(read_file(proc_dir(pid) / "statm"));
    ASSERT_TRUE(statm) << "statm of " << pid;
    const std::uint64_t rss_pages = bpf.at(pid).rss_bytes / static_cast<std::uint64_t>(page);
    const std::uint64_t diff = statm->resident_pages > rss_pages
                                   ? statm->resident_pages - rss_pages
                                   : rss_pages - statm->resident_pages;
    EXPECT_LE(diff, bound) << "pid " << pid << ": statm " << statm->resident_pages << ", BPF "
                           << rss_pages << " pages";
    if (diff >= largest) largest = diff, largest_pid = pid;
  }
  std::cout << "largest |statm resident - BPF rss| over " << pids.size()
            << " processes: " << largest << " pages (pid " << largest_pid << "); bound " << bound
            << " pages\n";
}

// What we made must read as we made it (both collectors agree already).
void expect_as_made(const Population& population, const View& proc) {
  for (const Member& m : population.members()) {
    const Seen& s = proc.at(m.pid);
    EXPECT_EQ(s.stat.state, m.settled.state) << m.pid;
    EXPECT_EQ(s.stat.threads, m.settled.threads) << m.pid;
    EXPECT_EQ(s.stat.ppid, ::getpid()) << m.pid;
    if (!m.comm.empty()) {
      EXPECT_EQ(s.stat.comm.view(), m.comm) << m.pid;
    }
    if (m.kind == Kind::kExec) {
      EXPECT_TRUE(s.identity.cmdline_truncated) << m.pid;
      EXPECT_EQ(s.identity.cmdline.at(0), "sleep\nwith a newline) R (") << m.pid;
    }
    if (m.kind == Kind::kReapedChild) {
      EXPECT_GT(s.stat.cutime + s.stat.cstime, 0u) << m.pid;
    }
  }
}

TEST_F(BpfCollectorTest, AgreesWithProcOnEveryFieldOfEveryProcess) {
  const auto started = Clock::now();
  Population population;
  ASSERT_NO_FATAL_FAILURE(population.make(1000));
  const auto made = Clock::now();
  const Sandwich s = take_sandwich(*bpf_, *proc_);

  std::set<pid_t> must_see = population.pids();
  must_see.insert(::getpid());
  Report report = compare(s, population.pids(), must_see);
  recheck(*bpf_, *proc_, 5, report);
  print(report, std::cout);
  std::cout << "population of " << population.members().size() << " made and settled in "
            << std::chrono::duration_cast<milliseconds>(made - started).count() << " ms ("
            << population.count(Kind::kThreads) << " with threads, "
            << population.count(Kind::kThreadsExited) << " whose threads exited, "
            << population.count(Kind::kLeaderExited) << " whose main thread exited, "
            << population.count(Kind::kZombie) << " zombies, "
            << population.count(Kind::kStopped) + population.count(Kind::kStoppedThreads)
            << " stopped, " << population.count(Kind::kHostileName) << " hostile names, "
            << population.count(Kind::kExec) << " exec'd)\n";
  EXPECT_EQ(report.compared[kOurs], population.members().size());
  EXPECT_GT(report.compared[kKernelThreads], 0u);
  for (const std::string& failure : report.failures) ADD_FAILURE() << failure;
  constexpr std::size_t kShown = 40;
  for (std::size_t i = 0; i < report.disagreements.size() && i < kShown; ++i)
    ADD_FAILURE() << report.disagreements[i].text;
  EXPECT_TRUE(report.disagreements.empty()) << report.disagreements.size() << " disagreements";

  expect_as_made(population, s.proc);
  expect_rss_near_statm(population.pids(), s.after);
}

// A pid reused between two cycles (ns_last_pid hands an exited child's pid to
// the next fork): the second cycle reports the new process, with its start
// time, its identity read again and its own CPU, not the one before's.
TEST_F(BpfCollectorTest, AReusedPidIsANewProcessWithItsOwnCpu) {
  ForkedChildren children;
  const std::vector<std::string> argv{"/bin/sleep", "3600.25"};
  for (int attempt = 0; attempt < 20; ++attempt) {
    ReadyPipe ready;
    const pid_t a = children.spawn([&] {
      ::prctl(PR_SET_NAME, "reused-pid-a");
      burn_cpu(50);  // 5 ticks: B, which burns none, cannot be mistaken for A
      ready.say_ready();
      park();
    });
    ASSERT_TRUE(ready.wait_for({a}, seconds(30)));
    ASSERT_TRUE(wait_settled({{a, Settled{}}}, seconds(30)));
    const View cycle1 = copy_of(bpf_->collect());
    const Seen* seen_a = find(cycle1, a);
    ASSERT_NE(seen_a, nullptr);
    ASSERT_EQ(seen_a->stat.comm.view(), "reused-pid-a");
    const std::uint64_t a_cpu = seen_a->stat.utime + seen_a->stat.stime;
    ASSERT_GE(a_cpu, 4u);

    children.reap(a);
    std::this_thread::sleep_for(milliseconds(20));  // start_time has 10 ms ticks: B's differs
    std::ofstream("/proc/sys/kernel/ns_last_pid") << a - 1;
    const pid_t b = children.spawn_exec(argv);
    if (b != a) {  // another process took the pid first: try again
      children.reap(b);
      continue;
    }
    ASSERT_TRUE(wait_settled({{b, Settled{.cmdline = joined(argv)}}}, seconds(30)));
    const Sandwich s = take_sandwich(*bpf_, *proc_);  // its first BPF read is cycle 2
    ASSERT_NO_FATAL_FAILURE(expect_exact(s, b));
    const Seen& seen_b = s.before.at(b);
    EXPECT_GT(seen_b.stat.start_time, seen_a->stat.start_time);
    EXPECT_EQ(seen_b.identity.start_time, seen_b.stat.start_time);
    EXPECT_NE(seen_b.identity.generation, seen_a->identity.generation) << "identity not read again";
    EXPECT_EQ(seen_b.stat.comm.view(), "sleep");
    EXPECT_EQ(seen_b.identity.cmdline, argv);
    EXPECT_LT(seen_b.stat.utime + seen_b.stat.stime, a_cpu) << "A's CPU reported for B";
    return;
  }
  GTEST_SKIP() << "could not get the same pid back in 20 attempts (a busy machine)";
}

// A thread that burned 50 ms and exited: the kernel moved its time into the
// process's exited-thread sums, which /proc counts and BPF must count too.
TEST_F(BpfCollectorTest, AnExitedThreadsCpuIsStillCounted) {
  ForkedChildren children;
  ReadyPipe ready;
  const pid_t pid = children.spawn([&] {
    run_threads(1, 50, false);
    ready.say_ready();
    park();
  });
  ASSERT_TRUE(ready.wait_for({pid}, seconds(30)));
  ASSERT_TRUE(wait_settled({{pid, Settled{}}}, seconds(30)));
  const Sandwich s = take_sandwich(*bpf_, *proc_);
  ASSERT_NO_FATAL_FAILURE(expect_exact(s, pid));
  const Seen& bpf = s.after.at(pid);
  EXPECT_EQ(bpf.stat.threads, 1u);
  // 50 ms is 5 ticks; utime and stime are each rounded down, so 4 at least.
  EXPECT_GE(bpf.stat.utime + bpf.stat.stime, 4u);
}

// Runs in bursts of 1 ms, user then system, with sleeps between: the ticks
// that sample which side a process runs on then catch some bursts and miss
// others, so the sampled split strays far from the exact runtime, and the
// split the kernel scales from it swings (cputime_adjust's floor is what
// keeps a side from going down).
[[noreturn]] void run_in_bursts() {
  static char buf[1 << 16];
  const int zero = ::open("/dev/zero", O_RDONLY);
  volatile std::uint64_t sink = 0;
  for (;;) {
    auto until = Clock::now() + milliseconds(1);  // the vDSO's clock: no system call
    while (Clock::now() < until)
      for (int i = 0; i < 1000; ++i) sink = sink + static_cast<std::uint64_t>(i);
    std::this_thread::sleep_for(milliseconds(2));
    until = Clock::now() + milliseconds(1);
    while (Clock::now() < until) (void)!::read(zero, buf, sizeof buf);
    std::this_thread::sleep_for(milliseconds(2));
  }
}

// A busy process's utime and stime never go down from one cycle to the next,
// though a /proc read between cycles moves the kernel's record of the split
// it last reported: the collector keeps its own as the floor, and takes
// /proc's only where it is at or above its own on both sides (next_split).
TEST_F(BpfCollectorTest, ABusyProcessesCpuNeverGoesDown) {
  ForkedChildren children;
  const pid_t pid = children.spawn(run_in_bursts);
  std::optional<StatFields> first, last;
  for (int cycle = 0; cycle < 50; ++cycle) {
    const Snapshot& snapshot = bpf_->collect();
    auto it = std::find_if(snapshot.processes.begin(), snapshot.processes.end(),
                           [&](const ProcessRecord& p) { return p.stat.pid == pid; });
    ASSERT_NE(it, snapshot.processes.end()) << "cycle " << cycle;
    if (last) {
      EXPECT_GE(it->stat.utime, last->utime) << "cycle " << cycle;
      EXPECT_GE(it->stat.stime, last->stime) << "cycle " << cycle;
    }
    if (!first) first = it->stat;
    last = it->stat;
    // The child runs on, its mix moving; then /proc works out a split from
    // the kernel's stored one, not knowing ours, and stores it. With more in
    // all but less on one side than ours, taken as the floor of our next
    // cycle it took that side down (5 runs in 100 failed so, before next_split).
    std::this_thread::sleep_for(milliseconds(10));
    (void)read_stat(proc_dir(pid) / "stat");
  }
  EXPECT_GT(last->utime, first->utime);
  EXPECT_GT(last->stime, first->stime);
  std::cout << "over 50 cycles: utime " << first->utime << " -> " << last->utime << ", stime "
            << first->stime << " -> " << last->stime << " ticks\n";
}

}  // namespace
}  // namespace procmond
