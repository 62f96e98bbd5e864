#include "connector/proc_connector.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "procmon/unique_fd.hpp"

namespace procmond {
namespace {

using Kind = ConnectorEvent::Kind;

// Children of one test: killed and reaped when it ends, also on failure.
class Children {
 public:
  Children() = default;
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;
  ~Children() {
    for (pid_t pid : pids_) ::kill(pid, SIGKILL);
    for (pid_t pid : pids_) wait_for(pid);
  }
  // Forks a child that runs `body` and _exits with what it returns; it dies
  // with us (PR_SET_PDEATHSIG) and never unwinds our stack.
  pid_t spawn(const std::function<int()>& body) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      ::_exit(body());
    }
    pids_.push_back(pid);
    return pid;
  }
  // Reaps one child; its wait(2) status.
  int wait_for(pid_t pid) {
    int status = -1;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::erase(pids_, pid);
    return status;
  }
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  std::vector<pid_t> pids_;
};

// Every event the connector delivers, machine-wide, in order.
struct Recorder {
  ProcConnector& connector;
  std::vector<ConnectorEvent> events;
  bool overflowed = false;

  // Drains until `done()` holds; false if it never did within `patience`,
  // a guard against a hang, not a measurement.
  bool drain_until(const std::function<bool()>& done,
                   std::chrono::seconds patience = std::chrono::seconds(30)) {
    const auto give_up = std::chrono::steady_clock::now() + patience;
    for (;;) {
      const auto r = connector.drain([&](const ConnectorEvent& e) { events.push_back(e); });
      overflowed = overflowed || r.overflowed;
      if (done()) return true;
      if (std::chrono::steady_clock::now() > give_up) return false;
      pollfd p{connector.fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
    }
  }

  // The events of one child: from its fork by `parent` on (a pid seen
  // earlier belonged to another process).
  std::vector<ConnectorEvent> of(pid_t pid, pid_t parent) const {
    std::vector<ConnectorEvent> out;
    for (const auto& e : events) {
      if (e.pid != pid) continue;
      if (e.kind == Kind::kFork && e.ppid == parent) out.clear();
      if (!out.empty() || (e.kind == Kind::kFork && e.ppid == parent)) out.push_back(e);
    }
    return out;
  }
  bool exited(pid_t pid) const {
    const auto mine = of(pid, ::getpid());
    return std::any_of(mine.begin(), mine.end(),
                       [](const auto& e) { return e.kind == Kind::kExit; });
  }
  bool any_event_for(pid_t pid) const {
    return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.pid == pid; });
  }
};

// A pipe from the children to us. Ours the read end; the write end closes
// on our side once they are forked, so that read() sees EOF when they end.
struct Pipe {
  procmon::UniqueFd read_end, write_end;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
};

// In the child: the calling thread's tid, to `pipe`.
bool send_tid(const Pipe& pipe) {
  const auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
  return ::write(pipe.write_end.get(), &tid, sizeof tid) == sizeof tid;
}

// In the parent: the tid a child sent; 0 if none came.
pid_t receive_tid(Pipe& pipe) {
  pipe.write_end.reset();
  pid_t tid = 0;
  return ::read(pipe.read_end.get(), &tid, sizeof tid) == sizeof tid ? tid : 0;
}

ProcConnector open_or_skip(const ConnectorOptions& options = {}) {
  std::string why;
  auto c = ProcConnector::open(options, &why);
  if (!c) throw std::runtime_error("open: " + why);
  return std::move(*c);
}

#define SKIP_UNLESS_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "the proc connector needs root or CAP_NET_ADMIN"

TEST(ProcConnector, SeesForkExecAndExitOfAChild) {
  SKIP_UNLESS_ROOT();
  ProcConnector c = open_or_skip();
  EXPECT_TRUE(c.rcvbuf_forced());
  EXPECT_GE(c.rcvbuf_bytes(), ConnectorOptions::kDefaultRcvbuf);
  Recorder rec{c};
  Children children;
  const std::uint64_t before = monotonic_now_ns();
  const pid_t child = children.spawn([] {
    ::execl("/bin/sh", "sh", "-c", "exit 7", static_cast<char*>(nullptr));
    return 127;
  });
  const int status = children.wait_for(child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
  ASSERT_TRUE(rec.drain_until([&] { return rec.exited(child); }));

  const auto mine = rec.of(child, ::getpid());
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_EQ(mine[0].kind, Kind::kFork);
  EXPECT_EQ(mine[0].ppid, ::getpid());
  EXPECT_EQ(mine[1].kind, Kind::kExec);
  EXPECT_EQ(mine[2].kind, Kind::kExit);
  EXPECT_EQ(mine[2].exit_status, status);
  // The kernel's timestamps are CLOCK_MONOTONIC, in order.
  EXPECT_LE(before, mine[0].mono_ns);
  EXPECT_LE(mine[0].mono_ns, mine[1].mono_ns);
  EXPECT_LE(mine[1].mono_ns, mine[2].mono_ns);
  EXPECT_LE(mine[2].mono_ns, monotonic_now_ns());
  EXPECT_TRUE(c.acknowledged());
  EXPECT_EQ(c.malformed(), 0u);
}

TEST(ProcConnector, ReportsAKilledChildsSignal) {
  SKIP_UNLESS_ROOT();
  ProcConnector c = open_or_skip();
  Recorder rec{c};
  Children children;
  const pid_t child = children.spawn([] {
    for (;;) ::pause();
    return 0;
  });
  ::kill(child, SIGTERM);
  const int status = children.wait_for(child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  ASSERT_TRUE(rec.drain_until([&] { return rec.exited(child); }));
  EXPECT_EQ(rec.of(child, ::getpid()).back().exit_status, status);
}

// The child makes a thread, tells us its tid, and exits once it has ended.
TEST(ProcConnector, AThreadIsNotAProcess) {
  SKIP_UNLESS_ROOT();
  ProcConnector c = open_or_skip();
  Recorder rec{c};
  Pipe pipe;
  Children children;
  const pid_t child = children.spawn([&] {
    bool sent = false;
    std::thread t([&] { sent = send_tid(pipe); });
    t.join();
    return sent ? 3 : 1;
  });
  const pid_t tid = receive_tid(pipe);
  ASSERT_NE(tid, 0);
  const int status = children.wait_for(child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);
  ASSERT_TRUE(rec.drain_until([&] { return rec.exited(child); }));

  ASSERT_NE(tid, child);
  EXPECT_FALSE(rec.any_event_for(tid)) << "the thread " << tid << " was reported";
  const auto mine = rec.of(child, ::getpid());
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].kind, Kind::kFork);
  EXPECT_EQ(mine[1].kind, Kind::kExit);
  EXPECT_EQ(mine[1].exit_status, status);
}

// A thread other than the leader execs: the kernel gives it the leader's pid
// first, so the exec is the process's. (It also reports the old leader's
// exit just before: see proc_connector.hpp.)
TEST(ProcConnector, AThreadsExecIsTheProcesssUnderItsPid) {
  SKIP_UNLESS_ROOT();
  ProcConnector c = open_or_skip();
  Recorder rec{c};
  Pipe pipe;
  Children children;
  const pid_t child = children.spawn([&] {
    std::thread t([&] {
      if (!send_tid(pipe)) ::_exit(1);
      ::execl("/bin/sh", "sh", "-c", "exit 5", static_cast<char*>(nullptr));
      ::_exit(127);
    });
    t.join();
    return 1;
  });
  const pid_t tid = receive_tid(pipe);
  ASSERT_NE(tid, 0);
  const int status = children.wait_for(child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 5) << status;
  ASSERT_TRUE(rec.drain_until([&] {
    const auto mine = rec.of(child, ::getpid());
    return !mine.empty() && mine.back().kind == Kind::kExit && mine.back().exit_status == status;
  }));
  EXPECT_FALSE(rec.any_event_for(tid));
  const auto mine = rec.of(child, ::getpid());
  EXPECT_EQ(std::count_if(mine.begin(), mine.end(), [](auto& e) { return e.kind == Kind::kExec; }),
            1);
}

// A forked child holds the same socket: its copy going away must not make
// the kernel stop sending to us (PROC_CN_MCAST_IGNORE is per socket).
TEST(ProcConnector, AChildDroppingItsCopyLeavesUsListening) {
  SKIP_UNLESS_ROOT();
  std::optional<ProcConnector> c(open_or_skip());
  Children children;
  const pid_t dropper = children.spawn([&] {
    c.reset();  // ~ProcConnector in the child
    return 0;
  });
  ASSERT_EQ(children.wait_for(dropper), 0);
  Recorder rec{*c};
  const pid_t child = children.spawn([] { return 9; });
  children.wait_for(child);
  ASSERT_TRUE(rec.drain_until([&] { return rec.exited(child); }));
}

TEST(ProcConnector, MovesKeepListening) {
  SKIP_UNLESS_ROOT();
  ProcConnector first = open_or_skip();
  const int fd = first.fd();
  ProcConnector second = std::move(first);
  EXPECT_EQ(second.fd(), fd);
  EXPECT_EQ(first.fd(), -1);  // NOLINT(bugprone-use-after-move): the moved-from state
  ProcConnector third = open_or_skip();
  third = std::move(second);  // the old third is told IGNORE and closed
  Recorder rec{third};
  Children children;
  const pid_t child = children.spawn([] { return 0; });
  children.wait_for(child);
  ASSERT_TRUE(rec.drain_until([&] { return rec.exited(child); }));
}

// Makes `n` children that block on a pipe, then lets them all exit at once
// and reaps them: 2n events queue while nobody drains.
std::vector<pid_t> burst(Children& children, std::size_t n) {
  Pipe pipe;
  std::vector<pid_t> pids;
  for (std::size_t i = 0; i < n; ++i)
    pids.push_back(children.spawn([&] {
      pipe.write_end.reset();
      char byte;
      return static_cast<int>(::read(pipe.read_end.get(), &byte, 1));  // 0 at EOF
    }));
  pipe.write_end.reset();  // EOF: all of them exit
  for (pid_t pid : pids) children.wait_for(pid);
  return pids;
}

TEST(ProcConnector, SeesABurstOf2000ChildrenWithTheDefaultBuffer) {
  SKIP_UNLESS_ROOT();
  ProcConnector c = open_or_skip();
  Recorder rec{c};
  Children children;
  const std::vector<pid_t> pids = burst(children, 2000);
  ASSERT_TRUE(rec.drain_until([&] { return rec.exited(pids.back()); }));
  rec.drain_until([] { return true; });
  EXPECT_FALSE(rec.overflowed);
  EXPECT_EQ(c.overflows(), 0u);
  std::size_t forks = 0, exits = 0;
  for (pid_t pid : pids) {
    const auto mine = rec.of(pid, ::getpid());
    forks += std::count_if(mine.begin(), mine.end(), [](auto& e) { return e.kind == Kind::kFork; });
    exits += std::count_if(mine.begin(), mine.end(),
                           [](auto& e) { return e.kind == Kind::kExit && e.exit_status == 0; });
  }
  EXPECT_EQ(forks, pids.size());
  EXPECT_EQ(exits, pids.size());
}

TEST(ProcConnector, ATinyBufferOverflowsAndSaysSo) {
  SKIP_UNLESS_ROOT();
  ProcConnector c = open_or_skip({.rcvbuf_bytes = 4096, .force_rcvbuf = false});
  EXPECT_FALSE(c.rcvbuf_forced());
  EXPECT_LT(c.rcvbuf_bytes(), std::size_t{64} << 10);
  Recorder rec{c};
  Children children;
  // ~4,000 events of ~1 KiB of buffer each into 8 KiB: the kernel must drop.
  const std::vector<pid_t> pids = burst(children, 2000);
  rec.drain_until([] { return true; });
  EXPECT_TRUE(rec.overflowed);
  EXPECT_GE(c.overflows(), 1u);
  // Still listening after the overflow. The buffer holds a few events only,
  // and other processes' events share it: a child's exit may be dropped
  // again, so try a few.
  bool seen = false;
  for (int attempt = 0; attempt < 20 && !seen; ++attempt) {
    const pid_t child = children.spawn([] { return 0; });
    children.wait_for(child);
    seen = rec.drain_until([&] { return rec.exited(child); }, std::chrono::seconds(2));
  }
  EXPECT_TRUE(seen);
}

// Without CAP_NET_ADMIN: nullopt and the reason. As root, a child drops to
// nobody (a setuid away from 0 clears every capability) and tries.
TEST(ProcConnector, RefusedWithoutPrivilegeSaysWhy) {
  auto attempt = [] {
    std::string why;
    const bool opened = ProcConnector::open({}, &why).has_value();
    return std::make_pair(opened, why);
  };
  if (::geteuid() != 0) {
    const auto [opened, why] = attempt();
    EXPECT_FALSE(opened);
    EXPECT_NE(why.find("CAP_NET_ADMIN"), std::string::npos) << why;
    return;
  }
  Pipe pipe;
  Children children;
  const pid_t child = children.spawn([&] {
    constexpr uid_t kNobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0)
      return 2;
    const auto [opened, why] = attempt();
    const std::string line = (opened ? "opened" : "refused: ") + why;
    return ::write(pipe.write_end.get(), line.data(), line.size()) ==
                   static_cast<ssize_t>(line.size())
               ? 0
               : 1;
  });
  pipe.write_end.reset();
  std::string text(512, '\0');
  const ssize_t got = ::read(pipe.read_end.get(), text.data(), text.size());
  ASSERT_EQ(children.wait_for(child), 0);
  ASSERT_GT(got, 0);
  text.resize(static_cast<std::size_t>(got));
  EXPECT_EQ(text.rfind("refused: ", 0), 0u) << text;
  EXPECT_NE(text.find("CAP_NET_ADMIN"), std::string::npos) << text;
}

}  // namespace
}  // namespace procmond
