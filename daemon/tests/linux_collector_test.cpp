#include "linux_collector.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "events/process_table.hpp"
#include "fake_proc.hpp"
#include "forked_children.hpp"
#include "proc_process_reader.hpp"
#include "procfs/cmdline.hpp"
#include "procfs/read.hpp"
#include "procmon/fd_limit.hpp"

namespace procmond {
namespace {

using testing::FakeProc;
using testing::FakeProcess;
using testing::ForkedChildren;

const ProcessRecord* find(const Snapshot& s, pid_t pid) {
  for (const auto& p : s.processes)
    if (p.stat.pid == pid) return &p;
  return nullptr;
}

// Waits until a child has exited, without reaping it: a zombie from here on.
void wait_until_zombie(pid_t pid) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0)
    ASSERT_EQ(errno, EINTR);
}

// Waits until an exec'd child shows its new argv: the kernel sets exe, then the
// comm, then the argv, so from here on all three are the new program's.
// A collector that sees the child earlier reports what it saw (our image, or
// the new comm with no argv yet) and rereads only on a new comm and once for
// an empty argv: a test of what a finished exec shows must not race the exec.
void wait_until_exec_done(pid_t pid, const std::vector<std::string>& argv) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const procmon::UniqueFd proc = procfs::open_proc_root();
  std::string text;
  while (std::chrono::steady_clock::now() < deadline) {
    auto read =
        procfs::read_capped_at(proc.get(), procfs::PidPath(pid, "cmdline").c_str(), 1 << 20, text);
    if (read && procfs::parse_cmdline(text) == argv) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  FAIL() << "pid " << pid << " did not finish its exec in 10 s";
}

class CollectorModes : public ::testing::TestWithParam<StatMode> {
 protected:
  std::unique_ptr<Collector> collector_for(const FakeProc& fake) {
    return make_collector({.proc_root = fake.root().string(), .mode = GetParam()});
  }
};

INSTANTIATE_TEST_SUITE_P(Modes, CollectorModes,
                         ::testing::Values(StatMode::kPlain, StatMode::kHeld),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_P(CollectorModes, ReadsEveryFieldAndOnlyNumericEntries) {
  FakeProc fake;
  fake.add({.pid = 100, .comm = "a) (b", .cmdline = {"/bin/x", "--flag", "two words"}, .uid = 7});
  fake.add({.pid = 200, .comm = "other", .exe = ""});
  auto collector = collector_for(fake);
  const Snapshot& s = collector->collect();
  ASSERT_EQ(s.processes.size(), 2u);
  EXPECT_EQ(s.stats.listed, 2u);
  const ProcessRecord* p = find(s, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->stat.comm.view(), "a) (b");
  EXPECT_EQ(p->stat.ppid, 1);
  EXPECT_EQ(p->stat.utime, 5u);
  EXPECT_EQ(p->stat.stime, 6u);
  EXPECT_EQ(p->rss_bytes, 10u * static_cast<unsigned>(::sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(p->identity->cmdline, (std::vector<std::string>{"/bin/x", "--flag", "two words"}));
  EXPECT_EQ(p->identity->uid, 7u);
  EXPECT_EQ(p->identity->exe, "/bin/proc");
  EXPECT_EQ(p->identity->start_time, 1000u);
  EXPECT_EQ(find(s, 200)->identity->exe, "");  // no exe link: stays empty, still counted
}

TEST_P(CollectorModes, AProcessWithoutStatIsSkippedNotAnError) {
  FakeProc fake;
  fake.add({.pid = 100});
  std::filesystem::create_directory(fake.root() / "77");  // listed, then gone
  auto collector = collector_for(fake);
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.listed, 2u);
  EXPECT_EQ(s.stats.vanished, 1u);
  ASSERT_EQ(s.processes.size(), 1u);
  EXPECT_EQ(s.processes[0].stat.pid, 100);
}

TEST_P(CollectorModes, MalformedStatIsCountedAndSkipped) {
  FakeProc fake;
  fake.add({.pid = 100});
  fake.add({.pid = 101});
  std::ofstream(fake.root() / "101" / "stat", std::ios::trunc) << "101 (broken";
  auto collector = collector_for(fake);
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.parse_errors, 1u);
  EXPECT_EQ(s.processes.size(), 1u);
}

TEST_P(CollectorModes, IdentityIsReadOnceThenCached) {
  FakeProc fake;
  fake.add({.pid = 100, .cmdline = {"first"}});
  auto collector = collector_for(fake);
  EXPECT_EQ(collector->collect().stats.first_sight, 1u);
  // A changed cmdline file on the same (pid, start_time) is not re-read.
  std::ofstream(fake.root() / "100" / "cmdline", std::ios::trunc) << "changed";
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.first_sight, 0u);
  EXPECT_EQ(s.processes.at(0).identity->cmdline, std::vector<std::string>{"first"});
}

TEST_P(CollectorModes, AReusedPidIsANewProcess) {
  FakeProc fake;
  FakeProcess p{.pid = 100, .start_time = 1000, .cmdline = {"old"}};
  fake.add(p);
  auto collector = collector_for(fake);
  collector->collect();
  p.start_time = 2000;
  p.cmdline = {"new"};
  fake.add(p);  // stat rewritten in place, so a held fd sees it too
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.first_sight, 1u);
  EXPECT_EQ(s.processes.at(0).identity->start_time, 2000u);
  EXPECT_EQ(s.processes.at(0).identity->cmdline, std::vector<std::string>{"new"});
}

TEST_P(CollectorModes, AnExecIsSeenByItsNewCommAndRereadsTheIdentity) {
  FakeProc fake;
  FakeProcess p{.pid = 100, .comm = "bash", .cmdline = {"bash"}, .exe = "/bin/bash"};
  fake.add(p);
  auto collector = collector_for(fake);
  collector->collect();
  p.comm = "make";  // same pid, same start time: an exec
  p.cmdline = {"make", "-j2"};
  p.exe = "/usr/bin/make";
  fake.add(p);
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.first_sight, 1u);
  EXPECT_EQ(s.processes.at(0).identity->cmdline, (std::vector<std::string>{"make", "-j2"}));
  EXPECT_EQ(s.processes.at(0).identity->exe, "/usr/bin/make");
}

TEST_P(CollectorModes, AnExecKeepingTheCommIsSeenByItsSignature) {
  FakeProc fake;
  FakeProcess p{.pid = 100, .comm = "bash", .cmdline = {"bash"}, .arg_start = 1000};
  fake.add(p);
  auto collector = collector_for(fake);
  const std::uint64_t first_signature = collector->collect().processes[0].identity->exec_signature;
  EXPECT_NE(first_signature, 0u);
  p.cmdline = {"bash", "build.sh"};  // bash running bash: same pid, start time, comm
  p.arg_start = 2000;
  fake.add(p);
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.first_sight, 1u);
  EXPECT_EQ(s.processes[0].identity->cmdline, p.cmdline);
  EXPECT_NE(s.processes[0].identity->exec_signature, first_signature);
}

// Known limit: where stat hides the addresses (0: no ptrace right), only a
// new comm tells an exec.
TEST_P(CollectorModes, WithoutTheAddressesAnExecKeepingTheCommIsNotSeen) {
  FakeProc fake;
  FakeProcess p{.pid = 100, .comm = "bash", .cmdline = {"bash"}};
  fake.add(p);
  // Fields 26 and 27 of the fake are 1: hide them as the kernel would.
  auto hide = [&] {
    std::ifstream in(fake.root() / "100" / "stat");
    std::string line((std::istreambuf_iterator<char>(in)), {});
    line.replace(line.find(" 18446744073709551615 1 1 "), 26, " 18446744073709551615 0 0 ");
    std::ofstream(fake.root() / "100" / "stat", std::ios::trunc) << line;
  };
  hide();
  auto collector = collector_for(fake);
  EXPECT_EQ(collector->collect().processes[0].identity->exec_signature, 0u);
  p.cmdline = {"bash", "build.sh"};
  fake.add(p);
  hide();
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.first_sight, 0u);
  EXPECT_EQ(s.processes[0].identity->cmdline, std::vector<std::string>{"bash"});
}

TEST_P(CollectorModes, AnEmptyCmdlineIsReadOnceMoreThenBelieved) {
  FakeProc fake;
  fake.add({.pid = 100, .cmdline = {}});  // caught mid-exec, or a process that cleared argv
  auto collector = collector_for(fake);
  EXPECT_EQ(collector->collect().stats.first_sight, 1u);
  std::ofstream(fake.root() / "100" / "cmdline", std::ios::trunc) << std::string("late\0", 5);
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.stats.first_sight, 1u);
  EXPECT_EQ(s.processes.at(0).identity->cmdline, std::vector<std::string>{"late"});
  EXPECT_EQ(collector->collect().stats.first_sight, 0u);
}

TEST_P(CollectorModes, AnEmptyCmdlineStaysEmptyAfterTheOneRecheck) {
  FakeProc fake;
  fake.add({.pid = 100, .cmdline = {}});
  auto collector = collector_for(fake);
  EXPECT_EQ(collector->collect().stats.first_sight, 1u);
  EXPECT_EQ(collector->collect().stats.first_sight, 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(collector->collect().stats.first_sight, 0u);
}

TEST_P(CollectorModes, ExitedProcessesLeaveTheCacheAndReleaseTheirFd) {
  FakeProc fake;
  fake.add({.pid = 100});
  fake.add({.pid = 101});
  auto collector = collector_for(fake);
  EXPECT_EQ(collector->collect().stats.held_fds, GetParam() == StatMode::kHeld ? 2u : 0u);
  fake.remove(101);
  const Snapshot& s = collector->collect();
  EXPECT_EQ(s.processes.size(), 1u);
  EXPECT_EQ(s.stats.held_fds, GetParam() == StatMode::kHeld ? 1u : 0u);
}

TEST(HeldMode, FallsBackToPlainReadsPastTheFdBudget) {
  FakeProc fake;
  for (int pid = 100; pid < 110; ++pid)
    fake.add({.pid = pid, .rss_pages = static_cast<unsigned long>(pid)});
  auto held = make_collector(
      {.proc_root = fake.root().string(), .mode = StatMode::kHeld, .max_held_fds = 3});
  for (int cycle = 0; cycle < 3; ++cycle) {
    const Snapshot& s = held->collect();
    EXPECT_EQ(s.processes.size(), 10u);
    EXPECT_EQ(s.stats.held_fds, 3u);
    for (const auto& p : s.processes)
      EXPECT_EQ(p.stat.rss_pages, static_cast<unsigned long>(p.stat.pid));
  }
}

TEST(Collector, RunningOutOfFdsIsAnErrorNotAVanishedProcess) {
  FakeProc fake;
  fake.add({.pid = 100});
  auto collector = make_collector({.proc_root = fake.root().string(), .mode = StatMode::kPlain});
  // Fill the fd table up to a low soft limit, in a child so nothing leaks here.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // One cycle first, with fds to spare: UBSan's vptr check probes memory
    // through a pipe, which it cannot open once the table is full; after a
    // first call its cache answers. It also makes this a steady-state failure.
    if (collector->collect().processes.size() != 1) ::_exit(12);
    rlimit low{.rlim_cur = 64, .rlim_max = 64};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) ::_exit(10);
    while (::open("/dev/null", O_RDONLY) >= 0) {
    }
    const Snapshot& s = collector->collect();
    ::_exit(s.stats.read_errors == 1 && s.stats.vanished == 0 && s.processes.empty() ? 0 : 11);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit " << WEXITSTATUS(status);
}

TEST(HeldMode, AutomaticBudgetLeavesAReserveBelowTheFdLimit) {
  FakeProc fake;
  LinuxCollector c({.proc_root = fake.root().string(), .mode = StatMode::kHeld});
  long limit = ::sysconf(_SC_OPEN_MAX);
  ASSERT_GT(limit, static_cast<long>(CollectorOptions::kFdReserve));
  EXPECT_EQ(c.held_fd_budget(), static_cast<std::size_t>(limit) - CollectorOptions::kFdReserve);
}

TEST(FdLimit, RaisesTheSoftLimitToTheHardOneAndSaysWhatItGot) {
  pid_t child = ::fork();  // the limit is the process's: change it in a child
  ASSERT_GE(child, 0);
  if (child == 0) {
    rlimit low{.rlim_cur = 64, .rlim_max = 128};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) ::_exit(10);
    procmon::FdLimit got = procmon::raise_fd_limit();
    if (got.before != 64 || got.soft != 128 || got.hard != 128) ::_exit(11);
    rlimit now{};
    if (::getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_cur != 128) ::_exit(12);
    got = procmon::raise_fd_limit();  // at the hard limit already: nothing to do
    if (got.before != 128 || got.soft != 128) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "check failed at step " << WEXITSTATUS(status);
}

// procmond raises its soft fd limit at start: with room for the /proc fd alone
// it would open no stat file and list nothing.
TEST(Procmond, RaisesItsSoftFdLimitAtStart) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  procmon::UniqueFd read_end(out[0]), write_end(out[1]);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::dup2(write_end.get(), STDOUT_FILENO);
    ::close_range(3, ~0U, 0);  // fds 0 to 2 only: the limit then leaves fd 3
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = 4;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(126);
    ::execl(PROCMOND_BIN, PROCMOND_BIN, "snapshot", "--json", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  write_end.reset();
  std::string json;
  char buf[65536];
  for (long n; (n = ::read(read_end.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    json.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  auto doc = nlohmann::json::parse(json);
  EXPECT_GT(doc.at("count").get<int>(), 0);
  bool found_us = false;  // the snapshot saw its own parent
  for (const auto& p : doc.at("processes")) found_us |= p.at("pid").get<int>() == ::getpid();
  EXPECT_TRUE(found_us);
}

TEST(Collector, MissingProcRootThrows) {
  EXPECT_THROW(make_collector({.proc_root = "/nonexistent/proc"}), std::system_error);
}

// ---- The real /proc ----------------------------------------------------------

TEST_P(CollectorModes, SeesOurChildrenWithTheirCommandLines) {
  ForkedChildren children;
  const std::vector<std::string> argv{"/bin/sleep", "3600.25"};
  pid_t a = children.spawn_exec(argv);
  pid_t b = children.spawn_paused();
  ASSERT_NO_FATAL_FAILURE(wait_until_exec_done(a, argv));
  auto collector = make_collector({.mode = GetParam()});
  const Snapshot& s = collector->collect();
  const ProcessRecord* pa = find(s, a);
  ASSERT_NE(pa, nullptr);
  EXPECT_EQ(pa->stat.ppid, ::getpid());
  EXPECT_EQ(pa->stat.comm.view(), "sleep");
  EXPECT_EQ(pa->identity->cmdline, argv);
  EXPECT_EQ(pa->identity->exe, std::filesystem::canonical("/bin/sleep").string());
  EXPECT_EQ(pa->identity->uid, ::getuid());
  const ProcessRecord* pb = find(s, b);
  ASSERT_NE(pb, nullptr);
  EXPECT_EQ(pb->stat.ppid, ::getpid());
  EXPECT_GT(pb->rss_bytes, 0u);
}

// A temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "execsig.XXXXXX").string();
    if (!::mkdtemp(templ.data()))
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = templ;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const char* name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Opens a FIFO for writing once its reader is there (ENXIO until then) and
// writes one line: the reader's `read` returns.
void release_fifo(const std::filesystem::path& fifo) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    procmon::UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (fd) {
      ASSERT_EQ(::write(fd.get(), "\n", 1), 1);
      return;
    }
    ASSERT_EQ(errno, ENXIO);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  FAIL() << "nobody opened " << fifo << " for reading in 10 s";
}

class NoReader : public ProcessReader {
 public:
  bool read(pid_t, ProcessSample&) override { return false; }
};

const Event* event_of(const std::vector<Event>& events, pid_t pid) {
  for (const auto& e : events)
    if (e.pid == pid) return &e;
  return nullptr;
}

// sh execs sh (same binary, same comm) with other arguments: the collector
// reads the new cmdline, the differ reports changed(exec), and so does the
// connector's path through the /proc reader. FIFOs hold each sh still: no
// grandchild is forked, so killing the child leaves nothing behind.
TEST_P(CollectorModes, ARealExecKeepingTheCommIsReportedAsAnExec) {
  TempDir dir;
  const auto go = dir / "go", hold = dir / "hold";
  ASSERT_EQ(::mkfifo(go.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo(hold.c_str(), 0600), 0);
  const std::vector<std::string> before{
      "/bin/sh", "-c",        "read x < \"$1\"; exec /bin/sh -c 'read y < \"$0\"; :' \"$2\" second",
      "first",   go.string(), hold.string()};
  const std::vector<std::string> after{"/bin/sh", "-c", "read y < \"$0\"; :", hold.string(),
                                       "second"};
  ForkedChildren children;
  pid_t pid = children.spawn_exec(before);
  ASSERT_NO_FATAL_FAILURE(wait_until_exec_done(pid, before));

  auto collector = make_collector({.mode = GetParam()});
  const ProcessRecord* r = find(collector->collect(), pid);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->identity->cmdline, before);
  const std::string comm(r->stat.comm.view());
  if (r->identity->exec_signature == 0) GTEST_SKIP() << "stat hides the exec addresses here";
  NoReader no_reader;
  ProcessTable table(no_reader);
  std::vector<Event> events;
  table.baseline(collector->collect(), 1, events);

  ASSERT_NO_FATAL_FAILURE(release_fifo(go));
  ASSERT_NO_FATAL_FAILURE(wait_until_exec_done(pid, after));
  const Snapshot& s = collector->collect();
  r = find(s, pid);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->stat.comm.view(), comm);  // the name kept
  EXPECT_EQ(r->identity->cmdline, after);

  events.clear();
  table.apply_snapshot(s, 2, 3, events);
  const Event* e = event_of(events, pid);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->kind, EventKind::kChanged);
  EXPECT_EQ(e->changes, kChangeExec);
  EXPECT_EQ(e->cmdline, after);

  // The connector's path: the /proc reader reads the new program at once.
  ProcProcessReader proc_reader;
  ProcessTable connector_table(proc_reader);
  events.clear();
  connector_table.on_fork(pid, ::getpid(), 1, 1, events);
  connector_table.on_exec(pid, 2, 2, events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, EventKind::kChanged);
  EXPECT_EQ(events[1].cmdline, after);
  EXPECT_EQ(events[1].comm, comm);
}

TEST(ProcProcessReader, ReadsALiveProcessAndRefusesAGoneOne) {
  FakeProc fake;
  fake.add({.pid = 100, .comm = "x y", .cmdline = {"/bin/x", "a b"}, .uid = 7, .arg_start = 5});
  ProcProcessReader reader(fake.root().string(), 4);
  ProcessSample sample;
  ASSERT_TRUE(reader.read(100, sample));
  EXPECT_EQ(sample.stat.comm.view(), "x y");
  EXPECT_EQ(sample.identity.start_time, 1000u);
  EXPECT_EQ(sample.identity.uid, 7u);
  EXPECT_EQ(sample.identity.exe, "/bin/proc");
  EXPECT_EQ(sample.identity.cmdline, std::vector<std::string>{"/bin"});  // cut at 4 bytes
  EXPECT_TRUE(sample.identity.cmdline_truncated);
  EXPECT_NE(sample.identity.exec_signature, 0u);
  EXPECT_EQ(sample.rss_bytes, 10u * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  EXPECT_FALSE(reader.read(101, sample));
}

TEST_P(CollectorModes, AZombieIsReportedWithoutCmdline) {
  ForkedChildren children;
  pid_t z = children.spawn_zombie();
  // First sight must be the zombie: a collector that saw the child alive
  // rightly keeps the cmdline and exe it read then.
  ASSERT_NO_FATAL_FAILURE(wait_until_zombie(z));
  auto collector = make_collector({.mode = GetParam()});
  const ProcessRecord* p = find(collector->collect(), z);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->stat.state, 'Z');
  EXPECT_TRUE(p->identity->cmdline.empty());
  EXPECT_EQ(p->identity->exe, "");
}

TEST_P(CollectorModes, AKernelThreadHasNoCmdline) {
  auto collector = make_collector({.mode = GetParam()});
  const ProcessRecord* kthreadd = find(collector->collect(), 2);
  if (kthreadd == nullptr || !kthreadd->stat.kernel_thread())
    GTEST_SKIP() << "no kernel thread visible at pid 2 (a container's pid namespace?)";
  EXPECT_TRUE(kthreadd->identity->cmdline.empty());
  EXPECT_EQ(kthreadd->identity->exe, "");
  EXPECT_EQ(kthreadd->stat.ppid, 0);
}

TEST_P(CollectorModes, AnExitedChildDisappears) {
  ForkedChildren children;
  pid_t a = children.spawn_paused();
  auto collector = make_collector({.mode = GetParam()});
  ASSERT_NE(find(collector->collect(), a), nullptr);
  children.reap(a);  // a held fd now answers ESRCH
  EXPECT_EQ(find(collector->collect(), a), nullptr);
}

// Forces the kernel to hand an exited child's pid to a new child (root only,
// through ns_last_pid) and checks that the collector sees a new process.
TEST_P(CollectorModes, ARealReusedPidIsANewProcess) {
  if (::geteuid() != 0) GTEST_SKIP() << "writing ns_last_pid needs root";
  ForkedChildren children;
  auto collector = make_collector({.mode = GetParam()});
  for (int attempt = 0; attempt < 20; ++attempt) {
    pid_t old_pid = children.spawn_paused();
    const ProcessRecord* old_rec = find(collector->collect(), old_pid);
    ASSERT_NE(old_rec, nullptr);
    std::uint64_t old_start = old_rec->identity->start_time;
    children.reap(old_pid);
    ::usleep(20000);  // start_time has 10 ms ticks: make the new one differ
    std::ofstream("/proc/sys/kernel/ns_last_pid") << old_pid - 1;
    const std::vector<std::string> argv{"/bin/sleep", "3600.5"};
    pid_t new_pid = children.spawn_exec(argv);
    if (new_pid != old_pid) continue;  // another process took it first; try again
    // Seen before its exec ends, the new child would show our argv, then none.
    ASSERT_NO_FATAL_FAILURE(wait_until_exec_done(new_pid, argv));
    const ProcessRecord* rec = find(collector->collect(), new_pid);
    ASSERT_NE(rec, nullptr);
    EXPECT_GT(rec->identity->start_time, old_start);
    EXPECT_EQ(rec->identity->cmdline, argv);
    return;
  }
  GTEST_SKIP() << "could not get the same pid back in 20 attempts (a busy machine)";
}

// A process the caller may not inspect (root's, seen by "nobody") still counts,
// with its stat fields, and with the fields it may not read left empty.
TEST_P(CollectorModes, AProcessTheCallerMayNotInspectStillCounts) {
  if (::geteuid() != 0) GTEST_SKIP() << "dropping to another user needs root";
  ForkedChildren children;
  pid_t root_child = children.spawn_paused();
  StatMode mode = GetParam();
  pid_t checker = ::fork();
  ASSERT_GE(checker, 0);
  if (checker == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    auto collector = make_collector({.mode = mode});
    const ProcessRecord* p = find(collector->collect(), root_child);
    if (p == nullptr) ::_exit(11);
    if (p->stat.ppid != ::getppid()) ::_exit(12);
    if (!p->identity->exe.empty()) ::_exit(13);  // readlink exe: EACCES
    if (p->identity->uid != 0) ::_exit(14);      // status stays readable
    if (p->identity->cmdline.empty()) ::_exit(15);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(checker, &status, 0), checker);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "check failed at step " << WEXITSTATUS(status);
}

}  // namespace
}  // namespace procmond
