#include "child_kinds.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

#include "io_all.hpp"

namespace loadgen::child {
namespace {

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

}  // namespace

void die_with(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) std::_Exit(0);  // the parent is gone already
}

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

void run_kind(const KindSpec& spec, const char* parent_arg, int report_fd) {
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

}  // namespace loadgen::child
