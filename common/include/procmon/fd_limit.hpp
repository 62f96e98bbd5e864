#pragma once
// Raises the soft RLIMIT_NOFILE to the hard limit, as long-running daemons do
// (systemd, nginx): the soft default (1,024 on Debian) exists for programs
// that still use select(), and a process monitor that holds one fd per process
// needs more. Needs no privilege: any process may raise its soft limit up to
// its hard one.

#include <sys/resource.h>

namespace procmon {

struct FdLimit {
  rlim_t before = 0;  // the soft limit found
  rlim_t soft = 0;    // the soft limit now in force
  rlim_t hard = 0;
};

// Never lowers the limit. If the raise fails, the limit stays as it was and
// `soft` says so; a failed getrlimit gives all zeros.
inline FdLimit raise_fd_limit() noexcept {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
  FdLimit out{.before = lim.rlim_cur, .soft = lim.rlim_cur, .hard = lim.rlim_max};
  // The kernel refuses a soft limit above fs.nr_open: an unlimited hard
  // limit is no target.
  if (lim.rlim_cur < lim.rlim_max && lim.rlim_max != RLIM_INFINITY) {
    rlimit want{.rlim_cur = lim.rlim_max, .rlim_max = lim.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) out.soft = lim.rlim_max;
  }
  return out;
}

}  // namespace procmon
