#pragma once
// Reads the parts of a process that change only on exec (cmdline, real uid,
// exe): the collector on first sight and exec, the /proc ProcessReader when
// the connector reports a fork or exec.

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>

#include "process_record.hpp"

namespace procmond {

// errno of each read that failed (0: it did not), for the caller's counters.
struct IdentityReadErrors {
  int cmdline = 0;
  int status = 0;
  bool status_malformed = false;
};

// Fills out.cmdline (at most max_cmdline bytes: out.cmdline_truncated),
// out.uid and out.exe, each left empty when unreadable. `scratch` and `buf`
// are the caller's reused buffers (buf holds a whole status file).
IdentityReadErrors read_identity(int proc_fd, pid_t pid, std::size_t max_cmdline,
                                 std::string& scratch, std::span<char> buf, ProcessIdentity& out);

}  // namespace procmond
