#include "events/process_table.hpp"
#include "exec_signature.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

namespace procmond {
namespace {

// One crafted process; `generation` stands for the collector's re-reads.
struct Proc {
  pid_t pid = 100;
  pid_t ppid = 1;
  std::uint64_t start_time = 1000;
  std::string comm = "proc";
  std::vector<std::string> cmdline = {"/bin/proc"};
  std::string exe = "/bin/proc";
  std::uint64_t signature = 77;
  std::uint64_t generation = 1;
  char state = 'S';
  std::uint32_t threads = 1;
  std::uint64_t utime = 5;
  std::uint32_t flags = 0;
};

// Builds snapshots whose identities live as long as the builder.
class Snapshots {
 public:
  const Snapshot& make(const std::vector<Proc>& procs) {
    Snapshot& s = snapshots_.emplace_back();
    for (const Proc& p : procs) {
      ProcessIdentity& id = identities_.emplace_back();
      id.start_time = p.start_time;
      id.uid = 1000;
      id.cmdline = p.cmdline;
      id.exe = p.exe;
      id.exec_signature = p.signature;
      id.generation = p.generation;
      ProcessRecord r;
      r.stat.pid = p.pid;
      r.stat.ppid = p.ppid;
      r.stat.start_time = p.start_time;
      r.stat.comm.assign(p.comm);
      r.stat.state = p.state;
      r.stat.threads = p.threads;
      r.stat.utime = p.utime;
      r.stat.flags = p.flags;
      r.rss_bytes = 4096;
      r.identity = &id;
      s.processes.push_back(r);
    }
    return s;
  }

 private:
  std::deque<ProcessIdentity> identities_;
  std::deque<Snapshot> snapshots_;
};

class FakeReader : public ProcessReader {
 public:
  bool read_stat(pid_t pid, ProcessSample& out) override {
    ++stat_reads;
    return fill(pid, out);
  }
  bool read(pid_t pid, ProcessSample& out) override {
    ++reads;
    return fill(pid, out);
  }
  bool fill(pid_t pid, ProcessSample& out) {
    auto it = procs.find(pid);
    if (it == procs.end()) return false;
    const Proc& p = it->second;
    out = ProcessSample{};
    out.stat = code;
    out.stat.pid = p.pid;
    out.stat.ppid = p.ppid;
    out.stat.start_time = p.start_time;
    out.stat.comm.assign(p.comm);
    out.stat.threads = p.threads;
    out.identity.start_time = p.start_time;
    out.identity.uid = 1000;
    out.identity.cmdline = p.cmdline;
    out.identity.exe = p.exe;
    out.identity.exec_signature = p.signature;
    return true;
  }
  void add(const Proc& p) { procs[p.pid] = p; }
  std::map<pid_t, Proc> procs;
  procfs::StatFields code;  // the address fields every stat read shows
  int reads = 0;
  int stat_reads = 0;
};

class ProcessTableTest : public ::testing::Test {
 protected:
  // Baseline of `procs`, events cleared.
  void start(const std::vector<Proc>& procs) {
    table.baseline(snaps.make(procs), 1, events);
    ASSERT_EQ(events.size(), 1u);
    events.clear();
  }
  std::vector<Event> apply(const std::vector<Proc>& procs, std::uint64_t t0) {
    events.clear();
    table.apply_snapshot(snaps.make(procs), t0, 42, events);
    std::vector<Event> got = std::move(events);
    events.clear();
    return got;
  }

  Snapshots snaps;
  FakeReader reader;
  ProcessTable table{reader};
  std::vector<Event> events;
};

TEST_F(ProcessTableTest, BaselineEmitsOneSnapshotEventAndNoStarted) {
  table.baseline(snaps.make({{.pid = 1}, {.pid = 2}, {.pid = 3}}), 99, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kSnapshot);
  EXPECT_EQ(events[0].processes, 3u);
  EXPECT_EQ(events[0].time_ns, 99);
  EXPECT_EQ(events[0].seq, 0u);
  EXPECT_EQ(table.size(), 3u);
}

TEST_F(ProcessTableTest, AnUnchangedSnapshotEmitsNothing) {
  start({{.pid = 1}, {.pid = 2}});
  EXPECT_TRUE(apply({{.pid = 1, .utime = 9}, {.pid = 2}}, 100).empty());
  EXPECT_EQ(table.size(), 2u);
}

TEST_F(ProcessTableTest, StartedAndExitedCarryTheProcessFields) {
  start({{.pid = 1}, {.pid = 2, .comm = "old", .cmdline = {"old", "-x"}}});
  apply({{.pid = 1}, {.pid = 2, .comm = "old", .cmdline = {"old", "-x"}, .utime = 50}}, 100);
  auto ev = apply({{.pid = 1}, {.pid = 3, .ppid = 1, .comm = "new", .cmdline = {"new"}}}, 200);
  ASSERT_EQ(ev.size(), 2u);
  const Event& started = ev[0].kind == EventKind::kStarted ? ev[0] : ev[1];
  const Event& exited = ev[0].kind == EventKind::kExited ? ev[0] : ev[1];
  EXPECT_EQ(started.kind, EventKind::kStarted);
  EXPECT_EQ(started.pid, 3);
  EXPECT_EQ(started.comm, "new");
  EXPECT_EQ(started.cmdline, std::vector<std::string>{"new"});
  EXPECT_EQ(started.uid, 1000u);
  EXPECT_EQ(started.rss_bytes, 4096u);
  EXPECT_EQ(started.source, EventSource::kPoll);
  EXPECT_EQ(started.time_ns, 42);
  EXPECT_EQ(exited.kind, EventKind::kExited);
  EXPECT_EQ(exited.pid, 2);
  EXPECT_EQ(exited.comm, "old");
  EXPECT_EQ(exited.cmdline, (std::vector<std::string>{"old", "-x"}));
  EXPECT_EQ(exited.utime, 50u);  // the last known
  EXPECT_EQ(exited.exit_status, -1);
  EXPECT_EQ(table.size(), 2u);
}

TEST_F(ProcessTableTest, AReusedPidIsExitedThenStarted) {
  start({{.pid = 5, .start_time = 1000, .comm = "a"}});
  auto ev = apply({{.pid = 5, .start_time = 2000, .comm = "b"}}, 100);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, EventKind::kExited);
  EXPECT_EQ(ev[0].start_time, 1000u);
  EXPECT_EQ(ev[0].comm, "a");
  EXPECT_EQ(ev[1].kind, EventKind::kStarted);
  EXPECT_EQ(ev[1].start_time, 2000u);
  EXPECT_EQ(ev[1].comm, "b");
  EXPECT_EQ(table.size(), 1u);
}

TEST_F(ProcessTableTest, AnExecKeepingTheNameIsSeenByItsSignature) {
  start({{.pid = 5, .comm = "bash", .cmdline = {"bash"}, .signature = 1}});
  auto ev = apply(
      {{.pid = 5, .comm = "bash", .cmdline = {"bash", "x.sh"}, .signature = 2, .generation = 2}},
      100);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kChanged);
  EXPECT_EQ(ev[0].changes, kChangeExec);
  EXPECT_EQ(ev[0].cmdline, (std::vector<std::string>{"bash", "x.sh"}));
  // Seen again unchanged: nothing more.
  EXPECT_TRUE(apply({{.pid = 5,
                      .comm = "bash",
                      .cmdline = {"bash", "x.sh"},
                      .signature = 2,
                      .generation = 2}},
                    200)
                  .empty());
}

TEST_F(ProcessTableTest, AReReadIdentityIsAnExecOnlyWhenItsStringsChanged) {
  start({{.pid = 5, .cmdline = {}, .signature = 0}});
  EXPECT_TRUE(apply({{.pid = 5, .cmdline = {}, .signature = 0, .generation = 2}}, 100).empty());
  auto ev = apply({{.pid = 5, .cmdline = {"late", "argv"}, .signature = 0, .generation = 3}}, 200);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].changes, kChangeExec);
  EXPECT_EQ(ev[0].cmdline, (std::vector<std::string>{"late", "argv"}));
}

TEST_F(ProcessTableTest, ACommChangeIsAnExecEvenWithoutASignature) {
  start({{.pid = 5, .comm = "sh", .signature = 0}});
  auto ev = apply({{.pid = 5, .comm = "make", .signature = 0, .generation = 2}}, 100);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].changes, kChangeExec);
  EXPECT_EQ(ev[0].comm, "make");
}

TEST_F(ProcessTableTest, AKernelThreadsNewCommIsNoExec) {
  // A kworker names the work it picked up: its comm changes many times a second.
  constexpr std::uint32_t kKthread = 0x00200000;
  start({{.pid = 12,
          .ppid = 2,
          .comm = "kworker/u8:0-events",
          .cmdline = {},
          .exe = "",
          .signature = 0,
          .flags = kKthread}});
  auto ev = apply({{.pid = 12,
                    .ppid = 2,
                    .comm = "kworker/u8:0-flush",
                    .cmdline = {},
                    .exe = "",
                    .signature = 0,
                    .generation = 2,
                    .flags = kKthread}},
                  100);
  EXPECT_TRUE(ev.empty());
}

TEST_F(ProcessTableTest, AReparentIsAChange) {
  start({{.pid = 5, .ppid = 4}});
  auto ev = apply({{.pid = 5, .ppid = 1}}, 100);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kChanged);
  EXPECT_EQ(ev[0].changes, kChangeReparent);
  EXPECT_EQ(ev[0].ppid, 1);
}

TEST_F(ProcessTableTest, ExecAndReparentAtOnceAreOneEventWithBothBits) {
  start({{.pid = 5, .ppid = 4, .signature = 1}});
  auto ev = apply({{.pid = 5, .ppid = 1, .signature = 2, .generation = 2}}, 100);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].changes, kChangeExec | kChangeReparent);
}

TEST_F(ProcessTableTest, AZombieHasExitedAndAnUnknownOneIsNeverStarted) {
  start({{.pid = 5}});
  auto ev = apply({{.pid = 5, .state = 'Z'}, {.pid = 6, .state = 'Z'}}, 100);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kExited);
  EXPECT_EQ(ev[0].pid, 5);
  EXPECT_TRUE(apply({{.pid = 5, .state = 'Z'}, {.pid = 6, .state = 'Z'}}, 200).empty());
  // A leader that exited while its threads run lives on.
  start({{.pid = 7}});
  EXPECT_TRUE(apply({{.pid = 7, .state = 'Z', .threads = 3}}, 300).empty());
  EXPECT_EQ(table.size(), 1u);
}

// Connector, then a snapshot that began before its messages.

TEST_F(ProcessTableTest, AnExitBeforeAStaleSnapshotIsNotStartedAgain) {
  start({{.pid = 5}});
  table.on_exit(5, 256, 200, 43, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kExited);
  EXPECT_EQ(events[0].source, EventSource::kConnector);
  EXPECT_EQ(events[0].exit_status, 256);
  EXPECT_EQ(events[0].comm, "proc");
  EXPECT_TRUE(apply({{.pid = 5}}, 100).empty());  // began at 100, saw 5 alive before 200
  EXPECT_EQ(table.size(), 0u);
  // A newer snapshot that still lists it: a pid reused (another start_time) is news.
  auto ev = apply({{.pid = 5, .start_time = 3000}}, 300);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kStarted);
}

TEST_F(ProcessTableTest, AForkAfterASnapshotBeganIsNotExitedByIt) {
  start({{.pid = 1}});
  reader.add({.pid = 9, .ppid = 1, .start_time = 5000, .comm = "child", .cmdline = {"child"}});
  table.on_fork(9, 1, 200, 43, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kStarted);
  EXPECT_EQ(events[0].source, EventSource::kConnector);
  EXPECT_EQ(events[0].comm, "child");
  EXPECT_EQ(events[0].start_time, 5000u);
  EXPECT_TRUE(apply({{.pid = 1}}, 100).empty());  // began before the fork
  EXPECT_EQ(table.size(), 2u);
  // Seen by a later snapshot: nothing new (same start_time, same strings).
  EXPECT_TRUE(
      apply({{.pid = 1}, {.pid = 9, .start_time = 5000, .comm = "child", .cmdline = {"child"}}},
            300)
          .empty());
  // Missing from one that began after the fork: the exit was missed, report it.
  auto ev = apply({{.pid = 1}}, 400);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kExited);
  EXPECT_EQ(ev[0].pid, 9);
}

TEST_F(ProcessTableTest, AForkAndExitBetweenAStaleSnapshotsStartAndItsApplyAreReportedOnce) {
  start({{.pid = 1}});
  reader.add({.pid = 9, .start_time = 5000});
  table.on_fork(9, 1, 150, 43, events);
  table.on_exit(9, 0, 160, 43, events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(apply({{.pid = 1}, {.pid = 9, .start_time = 5000}}, 100).empty());
  EXPECT_EQ(table.size(), 1u);
}

TEST_F(ProcessTableTest, AStaleRecordOfAnOlderProcessDoesNotReplaceTheConnectorsNewerOne) {
  start({{.pid = 9, .start_time = 1000, .comm = "old"}});
  table.on_exit(9, 0, 150, 43, events);
  reader.add({.pid = 9, .start_time = 2000, .comm = "new"});
  table.on_fork(9, 1, 160, 43, events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(apply({{.pid = 9, .start_time = 1000, .comm = "old"}}, 100).empty());
  EXPECT_EQ(table.size(), 1u);
}

TEST_F(ProcessTableTest, AConnectorExecIsNotUndoneByAStaleSnapshot) {
  start({{.pid = 5, .comm = "sh", .signature = 1}});
  reader.add({.pid = 5, .comm = "make", .cmdline = {"make", "-j"}, .signature = 2});
  table.on_exec(5, 200, 43, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kChanged);
  EXPECT_EQ(events[0].changes, kChangeExec);
  EXPECT_EQ(events[0].source, EventSource::kConnector);
  EXPECT_EQ(events[0].cmdline, (std::vector<std::string>{"make", "-j"}));
  EXPECT_TRUE(apply({{.pid = 5, .comm = "sh", .signature = 1}}, 100).empty());  // stale
  EXPECT_TRUE(
      apply(
          {{.pid = 5, .comm = "make", .cmdline = {"make", "-j"}, .signature = 2, .generation = 2}},
          300)
          .empty());
}

TEST_F(ProcessTableTest, AConnectorsLateExitOfAProcessThePollFoundGoneIsNotRepeated) {
  start({{.pid = 5}});
  auto ev = apply({}, 100);
  ASSERT_EQ(ev.size(), 1u);
  table.on_exit(5, 0, 90, 43, events);
  EXPECT_TRUE(events.empty());
}

TEST_F(ProcessTableTest, AnExitOlderThanTheEntryIsNotItsExit) {
  start({{.pid = 5, .start_time = 1000}});
  auto ev = apply({{.pid = 5, .start_time = 2000}}, 100);  // reused: exited + started
  ASSERT_EQ(ev.size(), 2u);
  table.on_exit(5, 0, 90, 43, events);  // the old one's exit, late
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(table.size(), 1u);
  table.on_exit(5, 0, 150, 43, events);  // the new one's
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].start_time, 2000u);
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(ProcessTableTest, AnExitOfAnUnknownPidIsReportedWithWhatIsKnown) {
  start({});
  table.on_exit(77, 9, 100, 43, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kExited);
  EXPECT_EQ(events[0].pid, 77);
  EXPECT_EQ(events[0].exit_status, 9);
  EXPECT_TRUE(events[0].comm.empty());
}

TEST_F(ProcessTableTest, AForkReadTooLateReportsPidAndPpidThenTheExit) {
  start({});
  table.on_fork(9, 4, 100, 43, events);  // the reader does not know 9: gone already
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kStarted);
  EXPECT_EQ(events[0].pid, 9);
  EXPECT_EQ(events[0].ppid, 4);
  table.on_exit(9, 0, 110, 43, events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, EventKind::kExited);
  EXPECT_EQ(events[1].ppid, 4);
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(ProcessTableTest, AForkedChildRunningItsParentsProgramIsReadByStatAlone) {
  reader.code.start_code = 0x1000;
  reader.code.end_code = 0x2000;
  reader.code.start_stack = 0x7ff000;
  reader.code.arg_start = 0x7ff100;
  reader.code.arg_end = 0x7ff200;
  const std::uint64_t sig = exec_signature(reader.code);
  start({{.pid = 9,
          .comm = "server",
          .cmdline = {"/usr/bin/server", "-d"},
          .exe = "/usr/bin/server",
          .signature = sig}});
  // What a full read would say (it must not be needed): another program.
  reader.add({.pid = 10, .ppid = 9, .comm = "server", .cmdline = {"other"}, .exe = "/bin/other"});
  table.on_fork(10, 9, 100, 43, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kStarted);
  EXPECT_EQ(events[0].cmdline, (std::vector<std::string>{"/usr/bin/server", "-d"}));
  EXPECT_EQ(events[0].exe, "/usr/bin/server");
  EXPECT_EQ(reader.stat_reads, 1);
  EXPECT_EQ(reader.reads, 0);

  // A child whose signature differs (it exec'd already) is read whole.
  events.clear();
  reader.code.arg_start = 0x1;
  reader.add({.pid = 11, .ppid = 9, .comm = "server", .cmdline = {"other"}, .exe = "/bin/other"});
  table.on_fork(11, 9, 101, 44, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].exe, "/bin/other");
  EXPECT_EQ(reader.reads, 1);
}

TEST_F(ProcessTableTest, AForkOfAKnownProcessSaysNothing) {
  start({{.pid = 9, .start_time = 5000}});
  reader.add({.pid = 9, .start_time = 5000});
  table.on_fork(9, 1, 100, 43, events);
  EXPECT_TRUE(events.empty());
}

TEST_F(ProcessTableTest, AnExecOfAProcessGoneAlreadyClearsItsIdentity) {
  start({{.pid = 5, .comm = "sh"}});
  table.on_exec(5, 100, 43, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].changes, kChangeExec);
  EXPECT_TRUE(events[0].comm.empty());
  EXPECT_TRUE(events[0].cmdline.empty());
}

TEST_F(ProcessTableTest, AnExecOfAnUnknownPidIsStarted) {
  start({});
  reader.add({.pid = 5, .comm = "x"});
  table.on_exec(5, 100, 43, events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EventKind::kStarted);
  EXPECT_EQ(events[0].comm, "x");
}

TEST_F(ProcessTableTest, TombstonesOlderThanASnapshotAreDropped) {
  start({{.pid = 5}, {.pid = 6}});
  table.on_exit(5, 0, 200, 43, events);
  table.on_exit(6, 0, 400, 43, events);
  EXPECT_EQ(table.tombstones(), 2u);
  apply({}, 300);
  EXPECT_EQ(table.tombstones(), 1u);  // 6's (400) is kept
  apply({}, 500);
  EXPECT_EQ(table.tombstones(), 0u);
}

TEST_F(ProcessTableTest, TombstonesAreBoundedWithoutSnapshots) {
  start({});
  for (pid_t pid = 1; pid <= static_cast<pid_t>(ProcessTable::kMaxTombstones) + 10; ++pid) {
    table.on_exit(pid, 0, static_cast<std::uint64_t>(pid), 43, events);
    events.clear();
  }
  EXPECT_LE(table.tombstones(), ProcessTable::kMaxTombstones);
}

}  // namespace
}  // namespace procmond
