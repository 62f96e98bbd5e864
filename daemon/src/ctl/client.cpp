#include "client.hpp"

#include "run/unix_address.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace procmond {

Client Client::connect(const std::filesystem::path& socket) {
  procmon::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{.sun_family = AF_UNIX};
  std::optional<UnixAddress> where;
  try {
    where.emplace(socket);
  } catch (const std::exception& e) {
    throw ConnectError("cannot connect to " + socket.string() + ": is procmond running? (" +
                       e.what() + ")");
  }
  std::strncpy(addr.sun_path, where->path().c_str(), sizeof addr.sun_path - 1);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw ConnectError("cannot connect to " + socket.string() + ": is procmond running? (" +
                       std::strerror(errno) + ")");
  return Client(std::move(fd));
}

void Client::request(const nlohmann::json& request) {
  std::string frame;
  wire::append_frame(frame, wire::FrameType::kRequest, request.dump());
  for (std::size_t off = 0; off < frame.size();) {
    ssize_t n = ::send(fd_.get(), frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::runtime_error(std::string("cannot send a request: ") + std::strerror(errno));
    off += static_cast<std::size_t>(n);
  }
}

std::optional<wire::Frame> Client::next() {
  for (;;) {
    if (auto frame = parser_.next()) return frame;
    ssize_t n = ::read(fd_.get(), buf_.data(), buf_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    parser_.feed({buf_.data(), static_cast<std::size_t>(n)});
  }
}

nlohmann::json fetch_status(const std::filesystem::path& socket) {
  Client c = Client::connect(socket);
  c.request({{"op", "status"}});
  while (auto f = c.next()) {
    if (f->type != wire::FrameType::kControl) continue;
    auto reply = nlohmann::json::parse(f->body);
    if (reply.value("type", "") == "error")
      throw std::runtime_error("procmond: " + reply.value("message", std::string("?")));
    if (reply.value("type", "") == "status") return reply;
  }
  throw std::runtime_error("procmond closed the connection without a status");
}

}  // namespace procmond
