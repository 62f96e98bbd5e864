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
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "bpf_population.hpp"
#include "collector.hpp"
#include "forked_children.hpp"
#include "procfs/stat.hpp"
#include "procfs/statm.hpp"

namespace procmond {
namespace {

using testing::burn_cpu;
using testing::ForkedChildren;
using testing::Kind;
using testing::Member;
using testing::park;
using testing::Population;
using testing::proc_dir;
using testing::read_file;
using testing::read_stat;
using testing::ReadyPipe;
using testing::run_threads;
using testing::Settled;
using testing::wait_settled;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- Three reads: BPF, /proc, BPF -----------------------------------------------

// One process as a collector reported it, copied: the snapshot and the
// identities are the collector's, overwritten by its next collect().
struct Seen {
  StatFields stat;
  std::uint64_t rss_bytes = 0;
  ProcessIdentity identity;
};
using View = std::map<pid_t, Seen>;

View copy_of(const Snapshot& snapshot) {
  View view;
  for (const ProcessRecord& p : snapshot.processes)
    view.emplace(p.stat.pid,
                 Seen{p.stat, p.rss_bytes, p.identity ? *p.identity : ProcessIdentity{}});
  return view;
}

// The machine's other processes run and change between two reads, so /proc
// is read between two BPF reads: a process that lives through all three must
// have what /proc says in one BPF read or the other.
struct Sandwich {
  View before, proc, after;
};

Sandwich take_sandwich(Collector& bpf, Collector& proc) {
  Sandwich s;
  s.before = copy_of(bpf.collect());
  s.proc = copy_of(proc.collect());
  // A task's runtime takes in its current slice at a tick or a switch, but
  // /proc takes it in at once for the task reading it: this sleep is a switch,
  // so the second BPF read has all of our own slice that /proc had.
  std::this_thread::sleep_for(milliseconds(1));
  s.after = copy_of(bpf.collect());
  return s;
}

const Seen* find(const View& view, pid_t pid) {
  auto it = view.find(pid);
  return it == view.end() ? nullptr : &it->second;
}

// ---- Fields and how they must agree -------------------------------------------

using Value = std::variant<std::int64_t, std::string>;

// How /proc's value must agree with the two BPF reads. A settled process of
// ours has every field equal in all three reads (but rss: kRss); a process
// that runs may change between them.
enum class Rule {
  kSame,   // equal to one BPF read or the other
  kGrows,  // a count that only grows (CPU times): between the first BPF read and the second
  kSize,   // memory, which a running process grows or shrinks: between the two BPF reads
  kRss,    // kSize, but one BPF read or the other even for a settled process: a
           // sleeping process's resident pages may still be reclaimed or faulted in for it
};

struct Field {
  const char* name;
  Rule rule;
  Value (*get)(const Seen&);
};

// A number of stat's, of any width, as a Value.
template <auto kMember>
Value stat_number(const Seen& s) {
  return static_cast<std::int64_t>(s.stat.*kMember);
}

// A workqueue worker's name carries "+desc" or "-desc": the description of its
// latest work, which changes as it runs. Only what comes before is compared
// (of a rescuer, "kworker/R-<queue>", that is "kworker/R").
std::string comm_key(const StatFields& f) {
  std::string comm(f.comm.view());
  constexpr std::string_view kWorker = "kworker/";
  if (f.kernel_thread() && comm.starts_with(kWorker))
    comm.resize(std::min(comm.size(), comm.find_first_of("+-", kWorker.size())));
  return comm;
}

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out.append(a).push_back('\0');
  return out;
}

const Field kFields[] = {
    {"start_time", Rule::kSame, stat_number<&StatFields::start_time>},
    {"ppid", Rule::kSame, stat_number<&StatFields::ppid>},
    {"pgrp", Rule::kSame, stat_number<&StatFields::pgrp>},
    {"session", Rule::kSame, stat_number<&StatFields::session>},
    {"state", Rule::kSame, [](const Seen& s) { return Value(std::string(1, s.stat.state)); }},
    {"comm", Rule::kSame, [](const Seen& s) { return Value(comm_key(s.stat)); }},
    {"flags", Rule::kSame, stat_number<&StatFields::flags>},
    {"threads", Rule::kSame, stat_number<&StatFields::threads>},
    {"utime", Rule::kGrows, stat_number<&StatFields::utime>},
    {"stime", Rule::kGrows, stat_number<&StatFields::stime>},
    {"cutime", Rule::kGrows, stat_number<&StatFields::cutime>},
    {"cstime", Rule::kGrows, stat_number<&StatFields::cstime>},
    {"vsize", Rule::kSize, stat_number<&StatFields::vsize_bytes>},
    {"rss", Rule::kRss,
     [](const Seen& s) { return Value(static_cast<std::int64_t>(s.rss_bytes)); }},
    {"uid", Rule::kSame, [](const Seen& s) { return Value(std::int64_t{s.identity.uid}); }},
    {"cmdline", Rule::kSame, [](const Seen& s) { return Value(joined(s.identity.cmdline)); }},
    {"cmdline_truncated", Rule::kSame,
     [](const Seen& s) { return Value(std::int64_t{s.identity.cmdline_truncated}); }},
    {"exe", Rule::kSame, [](const Seen& s) { return Value(s.identity.exe); }},
    {"start_code", Rule::kSame, stat_number<&StatFields::start_code>},
    {"end_code", Rule::kSame, stat_number<&StatFields::end_code>},
    {"start_stack", Rule::kSame, stat_number<&StatFields::start_stack>},
    {"arg_start", Rule::kSame, stat_number<&StatFields::arg_start>},
    {"arg_end", Rule::kSame, stat_number<&StatFields::arg_end>},
    {"env_start", Rule::kSame, stat_number<&StatFields::env_start>},
    {"env_end", Rule::kSame, stat_number<&StatFields::env_end>},
};

bool agrees(const Field& field, const Value& before, const Value& proc, const Value& after,
            bool settled) {
  if (settled) {
    if (field.rule == Rule::kRss) return proc == before || proc == after;
    return proc == before && proc == after;
  }
  switch (field.rule) {
    case Rule::kSame:
      return proc == before || proc == after;
    case Rule::kGrows:
      return before <= proc && proc <= after;
    case Rule::kSize:
    case Rule::kRss:
      return std::min(before, after) <= proc && proc <= std::max(before, after);
  }
  return false;
}

std::string printable(const Value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  std::string out = "\"";
  for (char c : std::get<std::string>(v)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  if (out.size() > 120) out = out.substr(0, 120) + "...";
  return out + "\"";
}

// The fields on which /proc and the two BPF reads of one process disagree,
// each with its three values.
std::vector<std::pair<const Field*, std::string>> disagreements(const Seen& before,
                                                                const Seen& proc, const Seen& after,
                                                                bool settled) {
  std::vector<std::pair<const Field*, std::string>> out;
  for (const Field& f : kFields) {
    const Value b = f.get(before), p = f.get(proc), a = f.get(after);
    if (!agrees(f, b, p, a, settled))
      out.emplace_back(&f,
                       "bpf " + printable(b) + ", proc " + printable(p) + ", bpf " + printable(a));
  }
  return out;
}

// ---- The whole machine --------------------------------------------------------

enum Group { kOurs, kTestProcess, kKernelThreads, kOthers, kGroups };
const char* const kGroupNames[kGroups] = {"ours (settled)", "this test", "kernel threads",
                                          "other processes"};

// One field of one process on which the three reads disagree.
struct Disagreement {
  pid_t pid;
  std::uint64_t start_time;
  Group group;
  const Field* field;
  std::string text;  // who, which field, the three values
};

using FieldCounts = std::map<std::string, std::size_t>;  // field -> processes

struct Report {
  std::size_t compared[kGroups] = {};
  std::size_t in_flux = 0;  // started or ended inside the three reads: one BPF read has it
  std::vector<std::string> only_proc, only_bpf;
  std::vector<std::string> failures;        // a process one side misses
  std::vector<Disagreement> disagreements;  // after recheck(): those that stand
  FieldCounts raced[kGroups];               // agreed in a later sandwich
  std::size_t gone_before_recheck = 0;
};

std::string who(pid_t pid, const Seen& s) {
  return std::to_string(pid) + " " + printable(std::string(s.stat.comm.view()));
}

// Whether /proc still has this process (a pid reused since is another one).
bool still_alive(pid_t pid, std::uint64_t start_time) {
  const auto now = read_stat(proc_dir(pid) / "stat");
  return now && now->start_time == start_time;
}

// pid 1 here is the sandbox's init: the platform hides it (and its threads)
// from BPF task iterators, and no one may read its exe.
constexpr pid_t kHiddenFromBpf = 1;

// What one collector saw and the other did not. Allowed for a process that
// started or ended inside the three reads (one BPF read lacks it, or /proc no
// longer has it); never for one of `must_see`.
void check_one_sided(pid_t pid, const Seen* before, const Seen* proc, const Seen* after,
                     const std::set<pid_t>& must_see, Report& r) {
  if (proc) {  // no BPF read has this process
    const bool alive = still_alive(pid, proc->stat.start_time);
    r.only_proc.push_back(who(pid, *proc) + (alive ? " (alive)" : " (gone since)"));
    if (alive && pid != kHiddenFromBpf)
      r.failures.push_back("BPF misses " + who(pid, *proc) + ", which /proc still has");
  } else {
    const Seen* seen = before ? before : after;
    r.only_bpf.push_back(who(pid, *seen) + (before && after ? " (both BPF reads)"
                                            : before        ? " (first BPF read)"
                                                            : " (second BPF read)"));
    if (before && after)
      r.failures.push_back("/proc misses " + who(pid, *seen) + ", seen by BPF before and after");
  }
  if (must_see.contains(pid))
    r.failures.push_back("one side misses our own " + std::to_string(pid));
}

// The two BPF reads of the process /proc saw at `pid` (null where a read has
// none, or another process at a pid reused inside the three reads).
struct Reads {
  const Seen *before, *proc, *after;
};

Reads reads_of(const Sandwich& s, pid_t pid, std::optional<std::uint64_t> start_time = {}) {
  Reads r{find(s.before, pid), find(s.proc, pid), find(s.after, pid)};
  if (!start_time && (r.proc || r.before || r.after))
    start_time = (r.proc ? r.proc : r.before ? r.before : r.after)->stat.start_time;
  for (const Seen** seen : {&r.before, &r.proc, &r.after})
    if (*seen && (*seen)->stat.start_time != start_time) *seen = nullptr;
  return r;
}

Report compare(const Sandwich& s, const std::set<pid_t>& settled, const std::set<pid_t>& must_see) {
  Report r;
  std::set<pid_t> pids;
  for (const View* v : {&s.before, &s.proc, &s.after})
    for (const auto& [pid, seen] : *v) pids.insert(pid);
  for (pid_t pid : pids) {
    const auto [before, proc, after] = reads_of(s, pid);
    if (!proc || (!before && !after)) {
      check_one_sided(pid, before, proc, after, must_see, r);
      continue;
    }
    if (!before || !after) {  // started or ended in between: its fields are on the move
      ++r.in_flux;
      if (must_see.contains(pid))
        r.failures.push_back("a BPF read misses our own " + who(pid, *proc));
      continue;
    }
    const bool ours = settled.contains(pid);
    const Group group = ours                         ? kOurs
                        : pid == ::getpid()          ? kTestProcess
                        : proc->stat.kernel_thread() ? kKernelThreads
                                                     : kOthers;
    ++r.compared[group];
    for (const auto& [field, values] : disagreements(*before, *proc, *after, ours))
      r.disagreements.push_back({pid, proc->stat.start_time, group, field,
                                 std::string(kGroupNames[group]) + ": " + who(pid, *proc) + " " +
                                     field->name + ": " + values});
  }
  return r;
}

// A process that runs may change between the reads in a way the sandwich
// cannot bound (memory that grows and shrinks again, a state that flips and
// back). Such a race does not repeat; a real disagreement does. So each
// disagreement of a process not settled is checked again in up to
// `sandwiches` more sandwiches, and stands only if every one shows it.
void recheck(Collector& bpf, Collector& proc, int sandwiches, Report& r) {
  std::vector<Disagreement> pending;
  std::erase_if(r.disagreements, [&](const Disagreement& d) {
    if (d.group == kOurs) return false;
    pending.push_back(d);
    return true;
  });
  for (int i = 0; i < sandwiches && !pending.empty(); ++i) {
    const Sandwich s = take_sandwich(bpf, proc);
    std::erase_if(pending, [&](const Disagreement& d) {
      const Reads again = reads_of(s, d.pid, d.start_time);
      if (!again.before || !again.proc || !again.after) return ++r.gone_before_recheck, true;
      const Field& f = *d.field;
      if (!agrees(f, f.get(*again.before), f.get(*again.proc), f.get(*again.after), false))
        return false;
      ++r.raced[d.group][f.name];
      return true;
    });
  }
  r.disagreements.insert(r.disagreements.end(), pending.begin(), pending.end());
}

void print_counts(const char* title, const FieldCounts (&counts)[kGroups], std::ostream& out) {
  out << title << ":";
  bool any = false;
  for (int g = 0; g < kGroups; ++g)
    for (const auto& [field, n] : counts[g]) {
      out << " " << kGroupNames[g] << "/" << field << "=" << n;
      any = true;
    }
  out << (any ? "\n" : " none\n");
}

void print(const Report& r, std::ostream& out) {
  out << "compared:";
  for (int g = 0; g < kGroups; ++g) out << " " << r.compared[g] << " " << kGroupNames[g] << ";";
  out << " " << r.in_flux << " started or ended between the reads (not compared)\n";
  FieldCounts differed[kGroups];
  for (const Disagreement& d : r.disagreements) ++differed[d.group][d.field->name];
  print_counts("processes that differed, by field", differed, out);
  print_counts("processes that raced (agreed when read again), by field", r.raced, out);
  if (r.gone_before_recheck > 0)
    out << r.gone_before_recheck << " disagreements of processes that ended before a recheck\n";
  out << "only /proc saw " << r.only_proc.size() << ":";
  for (const auto& p : r.only_proc) out << " [" << p << "]";
  out << "\nonly BPF saw " << r.only_bpf.size() << ":";
  for (const auto& p : r.only_bpf) out << " [" << p << "]";
  out << "\n";
}

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
