#include "data_dir_lock.hpp"

#include "unix_address.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace procmond {
namespace {

void make_private_dir(const std::filesystem::path& dir, const char* what) {
  std::error_code ec;
  const bool made = std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("cannot create {} {}: {}", what, dir.string(), ec.message()));
  // Only a directory we made ourselves is narrowed; a given one keeps its mode.
  if (made) ::chmod(dir.c_str(), 0700);
}

}  // namespace

DataDirLock DataDirLock::acquire(const std::filesystem::path& dir) {
  make_private_dir(dir, "data directory");
  const auto file = dir / "LOCK";
  procmon::UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd)
    throw std::runtime_error(
        fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK)
      throw std::runtime_error(
          fmt::format("cannot lock {}: {}", file.string(), std::strerror(errno)));
    char pid[32] = {};
    ssize_t n = ::pread(fd.get(), pid, sizeof pid - 1, 0);
    std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "?";
    while (!holder.empty() && holder.back() == '\n') holder.pop_back();
    throw std::runtime_error(fmt::format("data directory {} is in use by another procmond (pid {})",
                                         dir.string(), holder));
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), me.data(), me.size(), 0) < 0)
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
  return DataDirLock(std::move(fd));
}

void claim_socket_path(const std::filesystem::path& path) {
  make_private_dir(path.parent_path(), "socket directory");
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw std::runtime_error(
        fmt::format("cannot use socket {}: {}", path.string(), std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode))
    throw std::runtime_error(fmt::format("{} exists and is not a socket", path.string()));
  procmon::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const UnixAddress where(path);
  sockaddr_un addr{.sun_family = AF_UNIX};
  std::strncpy(addr.sun_path, where.path().c_str(), sizeof addr.sun_path - 1);
  if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
    throw std::runtime_error(
        fmt::format("socket {} is in use by a running procmond", path.string()));
  if (errno != ECONNREFUSED)
    throw std::runtime_error(
        fmt::format("cannot probe socket {}: {}", path.string(), std::strerror(errno)));
  // Nobody listens: a daemon was killed and left its socket file.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error(
        fmt::format("cannot remove stale socket {}: {}", path.string(), std::strerror(errno)));
}

}  // namespace procmond
