#pragma once
// A Unix socket's path as bind() and connect() can take it. sun_path holds
// 107 bytes; a longer path (a deep temporary directory) is reached through
// an fd of its directory: /proc/self/fd/N/NAME, valid while this object lives.

#include <filesystem>
#include <string>

#include "procmon/unique_fd.hpp"

namespace procmond {

class UnixAddress {
 public:
  // Throws std::runtime_error when a long path's directory cannot be opened.
  explicit UnixAddress(const std::filesystem::path& path);
  const std::string& path() const { return short_; }

 private:
  procmon::UniqueFd dir_;
  std::string short_;
};

}  // namespace procmond
