#include "spawner.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include "io_all.hpp"
#include "monotonic.hpp"

extern char** environ;

namespace loadgen {
namespace {

// Runs in a CLONE_VM child on a 2 KiB stack in our memory: raw system calls
// only, no libc state, nothing that could grow the stack (the lazy binder
// would: the binary is linked -z now, and the parent calls syscall() first).
// Never instrumented: a sanitizer's shadow memory and locks are shared with
// the parent, and a child killed mid-report would leave them poisoned or held.
__attribute__((no_sanitize_address, no_sanitize_undefined)) int sleeper_main(void* arg) {
  const auto parent = static_cast<pid_t>(reinterpret_cast<std::intptr_t>(arg));
  // The handlers we inherit (loadgen's SIGINT/SIGTERM) must never run on this
  // stack: back to the default actions while every signal is still blocked.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM}) {
    struct {
      void* handler = nullptr;  // SIG_DFL
      unsigned long flags = 0;
      void* restorer = nullptr;
      unsigned long mask = 0;
    } dfl;
    ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(unsigned long));
  }
  ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::syscall(SYS_getppid) != parent) ::syscall(SYS_exit, 0);  // the parent already died
  unsigned long none = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none);
  for (;;) ::syscall(SYS_pause);
}

// Blocks every signal for the lifetime of the object (this thread only).
class BlockAllSignals {
 public:
  BlockAllSignals() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old_);
  }
  ~BlockAllSignals() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

// posix_spawn of loadgen-child with default signal actions, an empty mask, in
// group `pgid` (0: ours), and no fd of ours but `fd3` (when >= 0), which becomes
// its fd 3.
SpawnResult spawn_helper(const std::string& path, char* const* argv, int fd3, pid_t pgid) {
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setpgroup(&attr, pgid);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                        (pgid > 0 ? POSIX_SPAWN_SETPGROUP : 0));
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  if (fd3 >= 0) ::posix_spawn_file_actions_adddup2(&actions, fd3, 3);
  ::posix_spawn_file_actions_addclosefrom_np(&actions, fd3 >= 0 ? 4 : 3);  // nothing else leaks in
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) return {-1, rc};
  return {pid, 0};
}

// Signals interrupt the socket calls (loadgen's handlers have no SA_RESTART, so
// that its sleep wakes at once): a Ctrl-C mid-batch must not pass for a dead
// zygote, which would leave the child it just forked tracked by nobody.
bool send_all(int fd, const void* data, std::size_t n) {
  // MSG_NOSIGNAL: a zygote that died is a spawn error, not a SIGPIPE for us.
  return io_all(const_cast<void*>(data), n,
                [fd](char* p, std::size_t k) { return ::send(fd, p, k, MSG_NOSIGNAL); });
}

// From the zygote's socket (MSG_WAITALL: one call but when interrupted).
bool recv_all(int fd, void* data, std::size_t n) {
  return io_all(data, n, [fd](char* p, std::size_t k) { return ::recv(fd, p, k, MSG_WAITALL); });
}

}  // namespace

void Spawner::spawn_many(std::size_t n, const OnChild& on_child) {
  for (std::size_t i = 0; i < n; ++i) {
    const double before = monotonic_seconds();
    const SpawnResult r = spawn();
    on_child(r, monotonic_seconds() - before);
  }
}

CloneSpawner::CloneSpawner(std::size_t max_live, pid_t pgid)
    : arena_(max_live * kStackBytes), parent_(::getpid()), pgid_(pgid) {
  free_slots_.reserve(max_live);
  for (std::size_t i = max_live; i-- > 0;) free_slots_.push_back(static_cast<std::uint32_t>(i));
  slot_of_.reserve(max_live);
  ::syscall(SYS_getppid);  // binds syscall() now, on our own stack
}

SpawnResult CloneSpawner::spawn() {
  if (free_slots_.empty()) return {-1, EAGAIN};
  std::uint32_t slot = free_slots_.back();
  std::byte* stack_top = arena_.data() + (slot + 1) * kStackBytes;  // stacks grow down
  pid_t pid;
  {
    BlockAllSignals blocked;
    pid = ::clone(sleeper_main, stack_top, CLONE_VM | SIGCHLD,
                  reinterpret_cast<void*>(static_cast<std::intptr_t>(parent_)));
  }
  if (pid < 0) return {-1, errno};
  // The child never execs, so this cannot fail for want of time (EACCES).
  if (pgid_ > 0) ::setpgid(pid, pgid_);
  free_slots_.pop_back();
  slot_of_.emplace(pid, slot);
  return {pid, 0};
}

void CloneSpawner::reaped(pid_t pid) {
  if (auto it = slot_of_.find(pid); it != slot_of_.end()) {
    free_slots_.push_back(it->second);
    slot_of_.erase(it);
  }
}

HelperSpawner::HelperSpawner(std::string helper_path, std::vector<std::string> args, pid_t pgid)
    : path_(std::move(helper_path)),
      args_(std::move(args)),
      pgid_(pgid),
      tree_(!args_.empty() && args_[0] == "tree") {
  args_.insert(args_.begin(), "loadgen-child");
  args_.push_back("--parent=" + std::to_string(::getpid()));
  for (auto& a : args_) argv_.push_back(a.data());
  argv_.push_back(nullptr);
}

SpawnResult HelperSpawner::spawn() {
  if (!tree_) return spawn_helper(path_, argv_.data(), -1, pgid_);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return {-1, errno};
  procmon::UniqueFd ours(report[0]);
  SpawnResult r;
  {
    procmon::UniqueFd theirs(report[1]);
    r = spawn_helper(path_, argv_.data(), theirs.get(), pgid_);
  }  // closed before the read: a root that dies is EOF, not a wait forever
  if (r.pid < 0) return r;
  std::int32_t made[2];
  if (read_all(ours.get(), made, sizeof made)) {
    r.nodes = static_cast<std::uint32_t>(std::max(0, made[0]));
    r.tree_error = made[1];
  } else {
    r.nodes = 1;  // the root was made; what it made below is unknown
    r.tree_error = ECHILD;
  }
  return r;
}

ZygoteSpawner::ZygoteSpawner(const std::string& helper_path, std::vector<std::string> args,
                             pid_t pgid) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::system_error(errno, std::generic_category(), "socketpair");
  socket_.reset(sv[0]);
  procmon::UniqueFd theirs(sv[1]);
  args.insert(args.begin(), {"loadgen-child", "zygote"});
  args.push_back("--parent=" + std::to_string(::getpid()));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  SpawnResult r = spawn_helper(helper_path, argv.data(), theirs.get(), pgid);
  if (r.pid < 0) throw std::system_error(r.error, std::generic_category(), "spawn " + helper_path);
  zygote_ = r.pid;
}

ZygoteSpawner::~ZygoteSpawner() {
  shutdown();
}

SpawnResult ZygoteSpawner::spawn() {
  SpawnResult result{-1, ECHILD};
  spawn_many(1, [&](const SpawnResult& r, double) { result = r; });
  return result;
}

void ZygoteSpawner::spawn_many(std::size_t n, const OnChild& on_child) {
  constexpr std::size_t kMaxBatch = 1024;  // as the zygote caps it
  while (n > 0) {
    const auto batch = static_cast<std::uint32_t>(std::min(n, kMaxBatch));
    n -= batch;
    double last = monotonic_seconds();
    bool alive = socket_ && send_all(socket_.get(), &batch, sizeof batch);
    // The zygote writes each child as soon as it has made it: its pid (or
    // -errno), and for a tree the nodes made and the first error.
    for (std::uint32_t i = 0; i < batch; ++i) {
      std::int32_t reply[3] = {};
      alive = alive && recv_all(socket_.get(), reply, sizeof reply);
      const double now = monotonic_seconds();
      if (!alive) {
        on_child({-1, ECHILD}, now - last);  // the zygote is gone: a short read
      } else if (reply[0] > 0) {
        on_child({reply[0], 0, static_cast<std::uint32_t>(std::max(0, reply[1])), reply[2]},
                 now - last);
      } else {
        on_child({-1, -reply[0]}, now - last);
      }
      last = now;
    }
    if (!alive) socket_.reset();
  }
}

void ZygoteSpawner::shutdown() {
  socket_.reset();                            // the zygote reads EOF and exits
  if (zygote_ > 0) ::kill(zygote_, SIGKILL);  // and at once, should it be stuck
  zygote_ = -1;                               // the caller reaps it with the rest of its children
}

}  // namespace loadgen
