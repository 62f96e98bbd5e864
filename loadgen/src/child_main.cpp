// loadgen-child: the process loadgen starts for every kind but the fast sleep
// path. Small and static, so that posix_spawn of it is cheap.
//
//   loadgen-child sleep                  idle until killed
//   loadgen-child cpu SHARE              burn SHARE of one core (0..1)
//   loadgen-child mem BYTES              touch BYTES of private memory, then idle
//   loadgen-child tree DEPTH FANOUT      fork FANOUT children, each a tree of DEPTH-1;
//                                        with fd 3 open, write there the nodes made
//                                        and the first fork error (two int32s)
//   loadgen-child exec                   after 100 ms, re-exec as "loadgen-execd" (a
//                                        monitor sees the comm and cmdline change)
//   loadgen-child zygote KIND [ARGS]     on fd 3, a socket: read a count n, fork n
//                                        children of KIND with CLONE_PARENT (so they
//                                        are loadgen's children), write for each its
//                                        pid (or -errno), nodes made and the first
//                                        error of its tree (three int32s)
// Each ends with --parent=PID: it dies with that parent (PR_SET_PDEATHSIG).
//
// Why the zygote: a fork of this small static process costs about 100 us; a
// posix_spawn (exec) of it about 300 us. 10,000 children: 1 s instead of 3.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sched.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "io_all.hpp"

namespace {

[[noreturn]] void usage() {
  std::fputs(
      "usage: loadgen-child [zygote] sleep|cpu SHARE|mem BYTES|tree DEPTH FANOUT|exec "
      "--parent=PID\n",
      stderr);
  std::exit(2);
}

void die_with(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) std::_Exit(0);  // the parent is gone already
}

[[noreturn]] void idle() {
  for (;;) ::pause();
}

timespec add_ns(timespec t, long ns) {
  t.tv_nsec += ns;
  t.tv_sec += t.tv_nsec / 1000000000L;
  t.tv_nsec %= 1000000000L;
  return t;
}

bool before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// Burns `share` of each period, sleeps the rest, on absolute deadlines. The
// period is 100 ms, or 1 s below a 1 % share: thousands of light children
// would otherwise cost more in wakeups than in the burn asked of them.
[[noreturn]] void burn(double share) {
  const long period_ns = share >= 0.01 ? 100'000'000 : 1'000'000'000;
  const long busy_ns = static_cast<long>(share * static_cast<double>(period_ns));
  timespec period_start;
  ::clock_gettime(CLOCK_MONOTONIC, &period_start);
  for (;;) {
    timespec busy_until = add_ns(period_start, busy_ns), now;
    do ::clock_gettime(CLOCK_MONOTONIC, &now);
    while (before(now, busy_until));
    period_start = add_ns(period_start, period_ns);
    ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &period_start, nullptr);
  }
}

[[noreturn]] void hold_memory(unsigned long bytes) {
  if (bytes > 0) {
    // MAP_POPULATE faults every page in at once (private, writable: real RSS),
    // a third of the cost of touching each page in turn.
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) std::_Exit(3);
  }
  idle();
}

// What a tree node made: itself and its descendants, and the first reason a
// fork (or a pipe) failed below it, 0 when none did.
struct TreeReport {
  std::int32_t nodes = 1;
  std::int32_t error = 0;
};

bool write_all(int fd, const void* data, std::size_t n) {
  return loadgen::io_all(const_cast<void*>(data), n,
                         [fd](char* p, std::size_t k) { return ::write(fd, p, k); });
}

bool read_all(int fd, void* data, std::size_t n) {
  return loadgen::io_all(data, n, [fd](char* p, std::size_t k) { return ::read(fd, p, k); });
}

// Forks `fanout` children, each a tree of depth - 1, and waits for each to say
// what it made, through a pipe closed once it has: a tree is counted as made,
// never assumed (a fork refused by RLIMIT_NPROC or pid_max is reported).
// `inherited`: the fd this node reports on, which its children must not hold.
TreeReport build_tree(int depth, int fanout, int inherited) {
  TreeReport made;
  const pid_t me = ::getpid();
  for (int i = 0; depth > 0 && i < fanout; ++i) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
      if (!made.error) made.error = errno;
      continue;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(report[0]);
      if (inherited >= 0) ::close(inherited);
      die_with(me);
      const TreeReport sub = build_tree(depth - 1, fanout, report[1]);
      (void)write_all(report[1], &sub, sizeof sub);
      ::close(report[1]);
      idle();
    }
    const int fork_error = errno;
    ::close(report[1]);
    TreeReport sub{0, 0};
    if (pid < 0) {
      sub.error = fork_error;
    } else if (!read_all(report[0], &sub, sizeof sub)) {
      sub = {0, ECHILD};  // it died before it could say
    }
    ::close(report[0]);
    made.nodes += sub.nodes;
    if (!made.error) made.error = sub.error;
  }
  return made;
}

[[noreturn]] void tree(int depth, int fanout, int report_fd) {
  const TreeReport made = build_tree(depth, fanout, report_fd);
  if (report_fd >= 0) {
    (void)write_all(report_fd, &made, sizeof made);
    ::close(report_fd);
  }
  idle();
}

[[noreturn]] void exec_once(const char* parent_arg) {
  timespec pause_for{0, 100'000'000};
  ::nanosleep(&pause_for, nullptr);
  char execd[] = "loadgen-execd";
  char sleep[] = "sleep";
  char* argv[] = {execd, sleep, const_cast<char*>(parent_arg), nullptr};
  ::execv("/proc/self/exe", argv);
  std::_Exit(4);
}

// A kind and its arguments, checked before any child is made.
struct KindSpec {
  enum { kSleep, kCpu, kMem, kTree, kExec } kind;
  double share = 0;
  unsigned long bytes = 0;
  int depth = 0, fanout = 0;
};

bool parse_kind(int nargs, char** args, KindSpec& spec) {
  const std::string kind = args[0];
  char* end = nullptr;
  if (kind == "sleep" && nargs == 1) {
    spec.kind = KindSpec::kSleep;
  } else if (kind == "cpu" && nargs == 2) {
    spec.kind = KindSpec::kCpu;
    spec.share = std::strtod(args[1], &end);
    return *end == '\0' && spec.share >= 0 && spec.share <= 1;
  } else if (kind == "mem" && nargs == 2) {
    spec.kind = KindSpec::kMem;
    spec.bytes = std::strtoul(args[1], &end, 10);
    return *end == '\0';
  } else if (kind == "tree" && nargs == 3) {
    spec.kind = KindSpec::kTree;
    spec.depth = std::atoi(args[1]);
    spec.fanout = std::atoi(args[2]);
    return spec.depth >= 0 && spec.fanout >= 0;
  } else if (kind == "exec" && nargs == 1) {
    spec.kind = KindSpec::kExec;
  } else {
    return false;
  }
  return true;
}

// `report_fd`: where a tree root writes its TreeReport (-1: nowhere).
[[noreturn]] void run_kind(const KindSpec& spec, const char* parent_arg, int report_fd) {
  switch (spec.kind) {
    case KindSpec::kSleep:
      idle();
    case KindSpec::kCpu:
      burn(spec.share);
    case KindSpec::kMem:
      hold_memory(spec.bytes);
    case KindSpec::kTree:
      tree(spec.depth, spec.fanout, report_fd);
    case KindSpec::kExec:
      exec_once(parent_arg);
  }
  std::_Exit(5);
}

// Serves spawn requests on fd 3 until loadgen closes it. Each child is made
// with CLONE_PARENT: loadgen is its parent and reaps it, as if it had forked it
// itself; it is in the zygote's process group, the run's.
[[noreturn]] void zygote(const KindSpec& spec, pid_t parent, const char* parent_arg) {
  constexpr int kSocket = 3;
  constexpr std::uint32_t kMaxBatch = 1024;
  const bool is_tree = spec.kind == KindSpec::kTree;
  for (;;) {
    std::uint32_t n = 0;
    if (!read_all(kSocket, &n, sizeof n)) std::_Exit(0);  // loadgen is done
    if (n > kMaxBatch) n = kMaxBatch;
    for (std::uint32_t i = 0; i < n; ++i) {
      // A tree's root says on a pipe what it made; the reply waits for it.
      int report[2] = {-1, -1};
      if (is_tree && ::pipe2(report, O_CLOEXEC) != 0) report[0] = report[1] = -1;
      long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
      const int clone_error = errno;
      if (pid == 0) {
        ::close(kSocket);
        if (report[0] >= 0) ::close(report[0]);
        die_with(parent);
        run_kind(spec, parent_arg, report[1]);
      }
      if (report[1] >= 0) ::close(report[1]);
      TreeReport made;
      if (pid < 0) {
        made = {0, clone_error};
      } else if (is_tree && (report[0] < 0 || !read_all(report[0], &made, sizeof made))) {
        made = {1, report[0] < 0 ? EMFILE : ECHILD};  // the root lives; what it made is unknown
      }
      if (report[0] >= 0) ::close(report[0]);
      // Each child at once, so that loadgen times every child, not the batch.
      const std::int32_t reply[3] = {pid > 0 ? static_cast<std::int32_t>(pid) : -clone_error,
                                     made.nodes, made.error};
      if (!write_all(kSocket, reply, sizeof reply)) std::_Exit(0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || std::strncmp(argv[argc - 1], "--parent=", 9) != 0) usage();
  char* end = nullptr;
  long parent = std::strtol(argv[argc - 1] + 9, &end, 10);
  if (*end != '\0' || parent <= 0) usage();
  die_with(static_cast<pid_t>(parent));
  // After the exec stage the comm is "exe"; give it a name a monitor can tell.
  if (std::strcmp(argv[0], "loadgen-execd") == 0) ::prctl(PR_SET_NAME, "loadgen-execd");

  const bool is_zygote = std::strcmp(argv[1], "zygote") == 0;
  char** kind_args = argv + (is_zygote ? 2 : 1);
  const int nargs = static_cast<int>(argv + argc - 1 - kind_args);  // the kind and its arguments
  KindSpec spec{};
  if (nargs < 1 || !parse_kind(nargs, kind_args, spec)) usage();
  if (is_zygote) zygote(spec, static_cast<pid_t>(parent), argv[argc - 1]);
  // loadgen leaves fd 3 open for a tree's report when it wants one.
  const bool report = spec.kind == KindSpec::kTree && ::fcntl(3, F_GETFD) != -1;
  run_kind(spec, argv[argc - 1], report ? 3 : -1);
}
