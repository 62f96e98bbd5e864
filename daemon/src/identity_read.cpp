#include "identity_read.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>

#include "procfs/cmdline.hpp"
#include "procfs/read.hpp"
#include "procfs/status.hpp"

namespace procmond {

IdentityReadErrors read_identity(int proc_fd, pid_t pid, std::size_t max_cmdline,
                                 std::string& scratch, std::span<char> buf, ProcessIdentity& out) {
  IdentityReadErrors errors;

  // Read /proc/PID/cmdline, capped: a process chooses its length
  auto truncated = procfs::read_capped_at(proc_fd, procfs::PidPath(pid, "cmdline").c_str(),
                                          max_cmdline, scratch);
  if (!truncated) errors.cmdline = errno;
  out.cmdline = truncated ? procfs::parse_cmdline(scratch) : std::vector<std::string>{};
  out.cmdline_truncated = truncated.value_or(false);

  // Read /proc/PID/status for the real uid
  auto text = procfs::read_at(proc_fd, procfs::PidPath(pid, "status").c_str(), buf);
  procfs::StatusFields status;
  if (!text) errors.status = errno;
  if (text && !procfs::parse_status(*text, status)) errors.status_malformed = true;
  out.uid = status.uid.value_or(static_cast<uid_t>(-1));

  // Read /proc/PID/exe: EACCES for another user's process unless privileged
  std::array<char, PATH_MAX> target;
  long len =
      ::readlinkat(proc_fd, procfs::PidPath(pid, "exe").c_str(), target.data(), target.size());
  out.exe.assign(target.data(), len > 0 ? static_cast<std::size_t>(len) : 0);
  return errors;
}

}  // namespace procmond
