// loadgen-child: the process loadgen starts for every kind but the fast sleep
// path. Small and static, so that posix_spawn of it is cheap.
//
//   loadgen-child sleep                  idle until killed
//   loadgen-child cpu SHARE              burn SHARE of one core (0..1)
//   loadgen-child mem BYTES              touch BYTES of private memory, then idle
//   loadgen-child tree DEPTH FANOUT      fork FANOUT children, each a tree of DEPTH-1
//   loadgen-child exec                   after 100 ms, re-exec as "loadgen-execd" (a
//                                        monitor sees the comm and cmdline change)
//   loadgen-child zygote KIND [ARGS]     on fd 3, a socket: read a count n, fork n
//                                        children of KIND with CLONE_PARENT (so they
//                                        are loadgen's children), write their pids
// Each ends with --parent=PID: it dies with that parent (PR_SET_PDEATHSIG).
//
// Why the zygote: a fork of this small static process costs about 100 us; a
// posix_spawn (exec) of it about 300 us. 10,000 children: 1 s instead of 3.

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

[[noreturn]] void tree(int depth, int fanout) {
  for (int i = 0; depth > 0 && i < fanout; ++i) {
    pid_t me = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      die_with(me);
      tree(depth - 1, fanout);
    }
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

[[noreturn]] void run_kind(const KindSpec& spec, const char* parent_arg) {
  switch (spec.kind) {
    case KindSpec::kSleep:
      idle();
    case KindSpec::kCpu:
      burn(spec.share);
    case KindSpec::kMem:
      hold_memory(spec.bytes);
    case KindSpec::kTree:
      tree(spec.depth, spec.fanout);
    case KindSpec::kExec:
      exec_once(parent_arg);
  }
  std::_Exit(5);
}

// Serves spawn requests on fd 3 until loadgen closes it. Each child is made
// with CLONE_PARENT: loadgen is its parent, reaps it and sees it in its own
// process group, as if it had forked it itself.
[[noreturn]] void zygote(const KindSpec& spec, pid_t parent, const char* parent_arg) {
  constexpr int kSocket = 3;
  constexpr std::uint32_t kMaxBatch = 1024;
  for (;;) {
    std::uint32_t n = 0;
    if (::read(kSocket, &n, sizeof n) != sizeof n) std::_Exit(0);  // loadgen is done
    if (n > kMaxBatch) n = kMaxBatch;
    for (std::uint32_t i = 0; i < n; ++i) {
      long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, 0);
      if (pid == 0) {
        ::close(kSocket);
        die_with(parent);
        run_kind(spec, parent_arg);
      }
      // Each pid at once, so that loadgen times every child, not the batch.
      std::int32_t reply = pid > 0 ? static_cast<std::int32_t>(pid) : -errno;
      if (::write(kSocket, &reply, sizeof reply) != sizeof reply) std::_Exit(0);
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
  run_kind(spec, argv[argc - 1]);
}
