#include "forked_children.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace procmond::testing {
namespace {

// In the child, before anything else: die with the parent, and close the race
// where the parent died before prctl took effect.
void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
}

pid_t fork_or_throw() {
  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  return pid;
}

}  // namespace

pid_t ForkedChildren::spawn_paused() {
  return spawn([] {
    for (;;) ::pause();
  });
}

pid_t ForkedChildren::spawn_exec(const std::vector<std::string>& argv) {
  if (argv.empty() || ::access(argv[0].c_str(), X_OK) != 0)
    throw std::system_error(errno, std::generic_category(), "exec target " + argv.at(0));
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return spawn([&] {
    ::execv(args[0], args.data());
    ::_exit(127);
  });
}

pid_t ForkedChildren::spawn_zombie() {
  pid_t pid = fork_or_throw();
  if (pid == 0) ::_exit(0);
  pids_.push_back(pid);
  return pid;
}

pid_t ForkedChildren::spawn(const std::function<void()>& body) {
  pid_t parent = ::getpid();
  pid_t pid = fork_or_throw();
  if (pid == 0) {
    die_with_parent(parent);
    body();
    ::_exit(0);
  }
  pids_.push_back(pid);
  return pid;
}

void ForkedChildren::resize_paused(std::size_t n) {
  while (pids_.size() < n) spawn_paused();
  if (pids_.size() > n) kill_and_reap(pids_.begin() + static_cast<std::ptrdiff_t>(n), pids_.end());
}

void ForkedChildren::reap(pid_t pid) {
  auto it = std::find(pids_.begin(), pids_.end(), pid);
  if (it == pids_.end()) return;
  kill_and_reap(it, it + 1);
}

void ForkedChildren::kill_all() {
  kill_and_reap(pids_.begin(), pids_.end());
}

void ForkedChildren::kill_and_reap(std::vector<pid_t>::iterator first,
                                   std::vector<pid_t>::iterator last) {
  // Kill everything first, then reap: the kills proceed in parallel.
  for (auto it = first; it != last; ++it) ::kill(*it, SIGKILL);
  for (auto it = first; it != last; ++it)
    while (::waitpid(*it, nullptr, 0) < 0 && errno == EINTR) {
    }
  pids_.erase(first, last);
}

}  // namespace procmond::testing
