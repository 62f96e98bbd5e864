#include "process_group.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace loadgen {

ProcessGroup::ProcessGroup() {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork the group's anchor");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
    for (;;) ::pause();
  }
  ::setpgid(pid, pid);  // as well as the child: whichever runs first, it is done before we go on
  anchor_ = pid;
}

ProcessGroup::~ProcessGroup() {
  if (anchor_ <= 0) return;
  kill_all();
  int status;
  while (::waitpid(anchor_, &status, 0) < 0 && errno == EINTR) {
  }
}

void ProcessGroup::kill_all() const {
  if (anchor_ > 0) ::kill(-anchor_, SIGKILL);
}

void ProcessGroup::reaped(pid_t pid) {
  if (pid == anchor_) anchor_ = -1;
}

}  // namespace loadgen
