#pragma once
// The population bpf_collector_test compares the two collectors on: children
// of ours of every kind a collector may get wrong (threads parked or exited,
// a main thread gone before its threads, a reaped child's CPU, zombies,
// stopped, hostile names, a long exec'd argv), each waited for until it
// stands still, so that /proc and BPF must agree on it exactly.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "forked_children.hpp"
#include "procfs/stat.hpp"
#include "procmon/unique_fd.hpp"

namespace procmond::testing {

// ---- What the children do ---------------------------------------------------

// Runs on the calling thread until it has had `ms` of CPU (user and system:
// reading the thread's clock is a system call).
void burn_cpu(int ms);

// Sleeps in pause() until killed.
[[noreturn]] void park();

// Starts `n` more threads that each burn `ms` of CPU, and returns once all
// have: parked ones then sleep, the others have exited and been joined (their
// CPU is now in the process's exited-thread sums, which /proc counts).
void run_threads(int n, int ms, bool park_them);

// Forks a child that burns `ms` of CPU and exits, and reaps it: its CPU is
// now ours as cutime and cstime.
void reap_a_busy_child(int ms);

// Children say their setup is done (threads started, CPU burned) by writing
// their pid into one pipe they all share: a write of 4 bytes to a pipe is
// atomic, and 1,000 children need no 1,000 pipes. Close-on-exec, so an
// exec'd child holds no end of it.
class ReadyPipe {
 public:
  ReadyPipe();
  void say_ready() const;  // in a child
  ::testing::AssertionResult wait_for(const std::vector<pid_t>& pids,
                                      std::chrono::seconds timeout) const;

 private:
  procmon::UniqueFd read_, write_;
};

// ---- Waiting until a child stands still ---------------------------------------

std::string read_file(const std::filesystem::path& path);
std::optional<procfs::StatFields> read_stat(const std::filesystem::path& path);
std::filesystem::path proc_dir(pid_t pid);
// An argv as /proc/PID/cmdline spells it: each argument and a NUL.
std::string joined(const std::vector<std::string>& args);

// What a child of ours shows once its setup is over.
struct Settled {
  char state = 'S';  // its main thread's
  std::uint32_t threads = 1;
  std::string cmdline;  // an exec'd child's whole argv, as /proc/PID/cmdline; empty: not checked
};

// Until every pid shows what it should with none of its threads running or
// about to (R, D): from then on nothing moves its CPU times or its memory.
::testing::AssertionResult wait_settled(const std::map<pid_t, Settled>& want,
                                        std::chrono::seconds timeout);

// ---- The population -----------------------------------------------------------

enum class Kind {
  kPaused,          // sleeps in pause(): most of the population
  kThreads,         // 3 more threads that burned CPU and sleep on
  kThreadsExited,   // 3 more threads that burned CPU and exited
  kLeaderExited,    // 2 more threads that burned CPU and sleep on; the main thread exited: 'Z'
  kReapedChild,     // reaped a child that burned CPU: cutime, cstime
  kZombie,          // burned CPU and exited, never reaped
  kStopped,         // SIGSTOP: 'T'
  kStoppedThreads,  // 2 more threads that burned CPU, then SIGSTOP: every thread 'T'
  kHostileName,     // prctl(PR_SET_NAME) with what a parser may trip on
  kExec,            // exec'd /bin/sleep: argv[0] with a newline, argv past the 4 KiB cap
};

struct Member {
  pid_t pid = 0;
  Kind kind = Kind::kPaused;
  Settled settled;
  std::string comm;  // what its comm must read as; empty: not checked
};

class Population {
 public:
  Population();

  // Forks `n` children of every kind (most of them paused), then waits until
  // each has done its setup and is settled. Fails the test (ASSERT) if not.
  void make(std::size_t n);

  const std::vector<Member>& members() const { return members_; }
  std::set<pid_t> pids() const;
  std::size_t count(Kind kind) const;

 private:
  void add(Kind kind, const char* name = nullptr);
  void run(Kind kind, const char* name) const;  // in the child

  ForkedChildren children_;  // killed and reaped however the test ends
  ReadyPipe ready_;
  std::vector<Member> members_;
  std::vector<std::string> exec_argv_{"sleep\nwith a newline) R (", "3600"};
  std::vector<char*> exec_args_;
};

}  // namespace procmond::testing
