#pragma once
// A blocking client of procmond's socket (daemon/PROTOCOL.md), for
// procmondctl, tests and benchmarks.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "procmon/unique_fd.hpp"
#include "run/wire.hpp"

namespace procmond {

struct ConnectError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Client {
 public:
  // Throws ConnectError: "cannot connect to PATH: is procmond running?".
  static Client connect(const std::filesystem::path& socket);

  void request(const nlohmann::json& request);  // throws std::runtime_error
  // The next frame, blocking; nullopt when the daemon closed the connection.
  // The body is valid until the next call.
  std::optional<wire::Frame> next();
  // Whether next() returns at once (a whole frame is buffered).
  bool ready() const { return parser_.has_frame(); }
  int fd() const { return fd_.get(); }

 private:
  explicit Client(procmon::UniqueFd fd) : fd_(std::move(fd)) {}
  procmon::UniqueFd fd_;
  wire::FrameParser parser_;
  std::string buf_ = std::string(256 << 10, '\0');
};

// One status request and its reply.
nlohmann::json fetch_status(const std::filesystem::path& socket);

}  // namespace procmond
