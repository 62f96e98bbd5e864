#include "bpf_population.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>
#include <thread>

namespace procmond::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- What the children do ---------------------------------------------------

namespace {

std::int64_t thread_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
}

struct ThreadJob {
  int burn_ms;
  bool park;  // sleep in pause() once burned; else exit
  sem_t* burned;
};

void* thread_body(void* arg) {
  const ThreadJob job = *static_cast<const ThreadJob*>(arg);
  burn_cpu(job.burn_ms);
  ::sem_post(job.burned);
  if (job.park) park();
  return nullptr;
}

}  // namespace

void burn_cpu(int ms) {
  const std::int64_t until = thread_cpu_ns() + ms * 1'000'000LL;
  volatile std::uint64_t sink = 0;
  while (thread_cpu_ns() < until)
    for (int i = 0; i < 10'000; ++i) sink = sink + static_cast<std::uint64_t>(i);
}

void park() {
  for (;;) ::pause();
}

void run_threads(int n, int ms, bool park_them) {
  static sem_t burned;  // static: a thread may still be in sem_post when we return
  ::sem_init(&burned, 0, 0);
  ThreadJob job{ms, park_them, &burned};
  std::vector<pthread_t> ids(static_cast<std::size_t>(n));
  for (pthread_t& id : ids)
    if (::pthread_create(&id, nullptr, thread_body, &job) != 0) ::_exit(3);
  for (int i = 0; i < n; ++i)
    while (::sem_wait(&burned) != 0) {
    }
  if (!park_them)
    for (pthread_t id : ids) ::pthread_join(id, nullptr);
}

void reap_a_busy_child(int ms) {
  pid_t child = ::fork();
  if (child < 0) ::_exit(4);
  if (child == 0) {
    burn_cpu(ms);
    ::_exit(0);
  }
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
}

ReadyPipe::ReadyPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
  read_.reset(fds[0]);
  write_.reset(fds[1]);
}

void ReadyPipe::say_ready() const {
  const pid_t me = ::getpid();
  if (::write(write_.get(), &me, sizeof me) != sizeof me) ::_exit(5);
}

::testing::AssertionResult ReadyPipe::wait_for(const std::vector<pid_t>& pids,
                                               seconds timeout) const {
  std::set<pid_t> waiting(pids.begin(), pids.end());
  const auto deadline = Clock::now() + timeout;
  while (!waiting.empty()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd p{.fd = read_.get(), .events = POLLIN, .revents = 0};
    const int polled = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
    if (polled == 0)
      return ::testing::AssertionFailure()
             << waiting.size() << " children did not finish their setup in " << timeout.count()
             << " s (pid " << *waiting.begin() << " among them)";
    if (polled < 0) continue;  // EINTR
    pid_t ready[256];
    const long n = ::read(read_.get(), ready, sizeof ready);
    for (long i = 0; i < n / static_cast<long>(sizeof(pid_t)); ++i) waiting.erase(ready[i]);
  }
  return ::testing::AssertionSuccess();
}

// ---- Waiting until a child stands still ---------------------------------------

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::optional<procfs::StatFields> read_stat(const std::filesystem::path& path) {
  procfs::StatFields f;
  const std::string text = read_file(path);
  if (text.empty() || !procfs::parse_stat(text, f)) return std::nullopt;
  return f;
}

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out.append(a).push_back('\0');
  return out;
}

std::filesystem::path proc_dir(pid_t pid) {
  return std::filesystem::path("/proc") / std::to_string(pid);
}

namespace {

// Whether `pid` shows what `want` says with none of its threads running or
// about to (R, D): from then on nothing moves its CPU times or its memory.
// Read from each thread's stat, never the process's: a read of /proc/PID/stat
// stores the CPU split it reports (signal->prev_cputime), and the BPF
// collector starts from that split, so it would be handed /proc's answer
// instead of working it out from the threads' times.
bool is_settled(pid_t pid, const Settled& want) {
  const auto main = read_stat(proc_dir(pid) / "task" / std::to_string(pid) / "stat");
  if (!main || main->state != want.state || main->threads != want.threads) return false;
  if (!want.cmdline.empty() && read_file(proc_dir(pid) / "cmdline") != want.cmdline) return false;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(proc_dir(pid) / "task", ec)) {
    const auto t = read_stat(task.path() / "stat");
    if (!t || t->state == 'R' || t->state == 'D') return false;
  }
  return !ec;
}

}  // namespace

::testing::AssertionResult wait_settled(const std::map<pid_t, Settled>& want, seconds timeout) {
  std::vector<pid_t> left;
  for (const auto& [pid, w] : want) left.push_back(pid);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::erase_if(left, [&](pid_t pid) { return is_settled(pid, want.at(pid)); });
    if (left.empty()) return ::testing::AssertionSuccess();
    if (Clock::now() > deadline)
      return ::testing::AssertionFailure()
             << left.size() << " children not settled in " << timeout.count() << " s; pid "
             << left[0] << " wants state " << want.at(left[0]).state << " and "
             << want.at(left[0]).threads << " threads, its main thread's stat: "
             << read_file(proc_dir(left[0]) / "task" / std::to_string(left[0]) / "stat");
    std::this_thread::sleep_for(milliseconds(10));
  }
}

// ---- The population -----------------------------------------------------------

namespace {

constexpr int kBurnMs = 6;

// Names set with prctl(PR_SET_NAME): parentheses and spaces that mimic the
// stat line around the comm, a status key, a newline, 15 bytes (the most a
// comm holds), 16 (cut to 15), empty, and bytes outside ASCII.
const char* const kHostileNames[] = {
    "a) R 1 (",
    "VmHWM:99999",
    "new\nline",
    "fifteen_bytes_x",
    "sixteen_bytes_xy",
    ") (",
    "",
    " ",
    "1 (x) Z 0 0 (",
    "tab\there\\",
    "\xc3\xbc"
    "nic"
    "\xc3\xb6"
    "de",
};

}  // namespace

Population::Population() {
  // sleep adds its arguments up: 2,100 more zeros take the argv past the
  // collectors' 4 KiB cap on a cmdline.
  for (int i = 0; i < 2100; ++i) exec_argv_.push_back("0");
  for (const auto& a : exec_argv_) exec_args_.push_back(const_cast<char*>(a.c_str()));
  exec_args_.push_back(nullptr);
}

void Population::make(std::size_t n) {
  const std::pair<Kind, int> plan[] = {
      {Kind::kThreads, 40},       {Kind::kThreadsExited, 40}, {Kind::kLeaderExited, 10},
      {Kind::kReapedChild, 20},   {Kind::kZombie, 40},        {Kind::kStopped, 20},
      {Kind::kStoppedThreads, 5}, {Kind::kExec, 3},
  };
  for (const auto& [kind, count] : plan)
    for (int i = 0; i < count; ++i) add(kind);
  for (int copy = 0; copy < 2; ++copy)
    for (const char* name : kHostileNames) add(Kind::kHostileName, name);
  while (members_.size() < n) add(Kind::kPaused);

  std::vector<pid_t> pids;
  for (const Member& m : members_) pids.push_back(m.pid);
  ASSERT_TRUE(ready_.wait_for(pids, seconds(60)));
  for (const Member& m : members_) {
    if (m.settled.state == 'T') {
      ASSERT_EQ(::kill(m.pid, SIGSTOP), 0);
    }
  }
  std::map<pid_t, Settled> want;
  for (const Member& m : members_) want.emplace(m.pid, m.settled);
  ASSERT_TRUE(wait_settled(want, seconds(60)));
}

std::set<pid_t> Population::pids() const {
  std::set<pid_t> out;
  for (const Member& m : members_) out.insert(m.pid);
  return out;
}

std::size_t Population::count(Kind kind) const {
  return static_cast<std::size_t>(std::count_if(members_.begin(), members_.end(),
                                                [&](const Member& m) { return m.kind == kind; }));
}

void Population::add(Kind kind, const char* name) {
  Member m{.kind = kind};
  m.pid = children_.spawn([&] { run(kind, name); });
  switch (kind) {
    case Kind::kThreads:
      m.settled.threads = 4;
      break;
    case Kind::kLeaderExited:
      m.settled = {.state = 'Z', .threads = 3};  // a zombie main thread counts till the last
      break;
    case Kind::kZombie:
      m.settled.state = 'Z';
      break;
    case Kind::kStopped:
      m.settled.state = 'T';
      break;
    case Kind::kStoppedThreads:
      m.settled = {.state = 'T', .threads = 3};
      break;
    case Kind::kHostileName:
      m.comm = std::string(name).substr(0, 15);
      break;
    case Kind::kExec:
      m.settled.cmdline = joined(exec_argv_);
      m.comm = "sleep";
      break;
    default:
      break;
  }
  members_.push_back(std::move(m));
}

// In the child.
void Population::run(Kind kind, const char* name) const {
  switch (kind) {
    case Kind::kThreads:
      run_threads(3, kBurnMs, true);
      break;
    case Kind::kThreadsExited:
      run_threads(3, kBurnMs, false);
      break;
    case Kind::kLeaderExited:
      run_threads(2, kBurnMs, true);
      ready_.say_ready();
      ::syscall(SYS_exit, 0);  // this thread alone: exit() would end them all
      break;
    case Kind::kReapedChild:
      reap_a_busy_child(20);
      break;
    case Kind::kZombie:
      burn_cpu(kBurnMs);
      ready_.say_ready();
      return;  // spawn's _exit: a zombie
    case Kind::kStoppedThreads:
      run_threads(2, kBurnMs, true);
      break;
    case Kind::kHostileName:
      ::prctl(PR_SET_NAME, name);
      break;
    case Kind::kExec:
      ready_.say_ready();
      ::execv("/bin/sleep", exec_args_.data());
      ::_exit(127);
    default:
      break;
  }
  ready_.say_ready();
  park();
}

}  // namespace procmond::testing
