#pragma once
// One daemon per data directory: an flock on DIR/LOCK, held for the process's
// life and released by the kernel even after a SIGKILL (no stale lock to
// clean). The file holds the holder's pid, for the error a second daemon gets.

#include <filesystem>

#include "procmon/unique_fd.hpp"

namespace procmond {

class DataDirLock {
 public:
  // Creates the directory (mode 0700) if missing. Throws std::runtime_error:
  // "data directory D is in use by procmond (pid N)", or why it cannot be made.
  static DataDirLock acquire(const std::filesystem::path& dir);

 private:
  explicit DataDirLock(procmon::UniqueFd fd) : fd_(std::move(fd)) {}
  procmon::UniqueFd fd_;
};

// Makes `path` ready to bind: refuses one a live daemon answers on ("socket S
// is in use"), removes a stale one left by a killed daemon, refuses a path
// that is not a socket. Creates the parent directory (0700) if missing.
void claim_socket_path(const std::filesystem::path& path);

}  // namespace procmond
