#include "unix_address.hpp"

#include <fcntl.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace procmond {

UnixAddress::UnixAddress(const std::filesystem::path& path) : short_(path.string()) {
  if (short_.size() < sizeof(sockaddr_un::sun_path)) return;
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  dir_.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_)
    throw std::runtime_error("cannot open the socket's directory " + dir.string() + ": " +
                             std::strerror(errno));
  short_ = "/proc/self/fd/" + std::to_string(dir_.get()) + "/" + path.filename().string();
  if (short_.size() >= sizeof(sockaddr_un::sun_path))
    throw std::runtime_error("socket name " + path.filename().string() + " is too long");
}

}  // namespace procmond
