#include "procfs/pid_directory.hpp"

#include <sys/syscall.h>
#include <unistd.h>

namespace procfs {

// 64 KiB holds about 2,000 pid entries per getdents64 call.
PidDirectory::PidDirectory(int dir_fd) : dir_fd_(dir_fd), buffer_(64 * 1024) {}

long PidDirectory::read_entries() {
  return ::syscall(SYS_getdents64, dir_fd_, buffer_.data(), buffer_.size());
}

bool PidDirectory::rewind() {
  return ::lseek(dir_fd_, 0, SEEK_SET) == 0;
}

}  // namespace procfs
