#include "connector/proc_connector.hpp"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

namespace procmond {
namespace {

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// One PROC_CN_MCAST_* request to the kernel; seq names it in the answer.
bool send_mcast_op(int fd, std::uint32_t seq, proc_cn_mcast_op op) {
  // nlmsghdr, cn_msg, then the op: laid out by hand, since cn_msg ends in
  // a flexible array that no struct may extend.
  constexpr std::size_t kCn = NLMSG_HDRLEN;
  constexpr std::size_t kOp = kCn + sizeof(cn_msg);
  alignas(nlmsghdr) std::byte request[NLMSG_LENGTH(sizeof(cn_msg) + sizeof(std::uint32_t))]{};
  nlmsghdr header{};
  header.nlmsg_len = sizeof request;
  header.nlmsg_type = NLMSG_DONE;
  header.nlmsg_pid = seq;
  cn_msg msg{};
  msg.id.idx = CN_IDX_PROC;
  msg.id.val = CN_VAL_PROC;
  msg.seq = seq;
  msg.ack = seq;  // answered with ack + 1
  msg.len = sizeof(std::uint32_t);
  const std::uint32_t value = op;
  std::memcpy(request, &header, sizeof header);
  std::memcpy(request + kCn, &msg, sizeof msg);
  std::memcpy(request + kOp, &value, sizeof value);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
  for (;;) {
    const ssize_t sent = ::sendto(fd, &request, sizeof request, 0,
                                  reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (sent == static_cast<ssize_t>(sizeof request)) return true;
    if (sent < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

ProcConnector::Listener::Listener(procmon::UniqueFd fd, std::uint32_t port)
    : fd_(std::move(fd)), port_(port), owner_(::getpid()) {}

ProcConnector::Listener& ProcConnector::Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    if (fd_ && ::getpid() == owner_) send_mcast_op(fd_.get(), port_, PROC_CN_MCAST_IGNORE);
    fd_ = std::move(other.fd_);
    port_ = std::exchange(other.port_, 0);
    owner_ = other.owner_;
  }
  return *this;
}

ProcConnector::Listener::~Listener() {
  if (fd_ && ::getpid() == owner_) send_mcast_op(fd_.get(), port_, PROC_CN_MCAST_IGNORE);
}

ProcConnector::ProcConnector(Listener listener)
    : fd_(std::move(listener)),
      buffer_(kRecvBuffer),
      decoded_(max_events_per_datagram(kRecvBuffer)) {}

std::optional<ProcConnector> ProcConnector::open(const ConnectorOptions& options,
                                                 std::string* why_not) {
  const auto fail = [&](std::string reason) -> std::optional<ProcConnector> {
    if (why_not) *why_not = std::move(reason);
    return std::nullopt;
  };
  procmon::UniqueFd fd(
      ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR));
  if (!fd) return fail(errno_text("socket(AF_NETLINK, NETLINK_CONNECTOR)", errno));

  // Sized before joining the group, so that no burst finds the default buffer.
  const int asked = static_cast<int>(std::min<std::size_t>(options.rcvbuf_bytes, INT_MAX / 2));
  bool forced = options.force_rcvbuf &&
                ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &asked, sizeof asked) == 0;
  if (!forced && ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &asked, sizeof asked) != 0)
    return fail(errno_text("setsockopt(SO_RCVBUF)", errno));
  int granted = 0;
  socklen_t granted_len = sizeof granted;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &granted, &granted_len) != 0)
    return fail(errno_text("getsockopt(SO_RCVBUF)", errno));

  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = CN_IDX_PROC;  // nl_pid 0: the kernel picks our port id
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES)
      return fail("the proc connector needs root or CAP_NET_ADMIN (" + errno_text("bind", err) +
                  ")");
    return fail(errno_text("bind(NETLINK_CONNECTOR, CN_IDX_PROC)", err));
  }
  socklen_t local_len = sizeof local;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0)
    return fail(errno_text("getsockname", errno));

  if (!send_mcast_op(fd.get(), local.nl_pid, PROC_CN_MCAST_LISTEN)) {
    const int err = errno;
    if (err == EPERM)
      return fail("the proc connector needs root or CAP_NET_ADMIN (" +
                  errno_text("PROC_CN_MCAST_LISTEN", err) + ")");
    return fail(errno_text("send PROC_CN_MCAST_LISTEN", err));
  }
  ProcConnector connector(Listener(std::move(fd), local.nl_pid));
  connector.rcvbuf_bytes_ = static_cast<std::size_t>(granted);
  connector.rcvbuf_forced_ = forced;
  return connector;
}

ProcConnector::ReadOutcome ProcConnector::read_datagram() {
  last_ = {};
  sockaddr_nl from{};
  socklen_t from_len = sizeof from;
  ssize_t got;
  do {
    // MSG_TRUNC: the datagram's real length, should one ever exceed the buffer.
    got = ::recvfrom(fd_.get(), buffer_.data(), buffer_.size(), MSG_TRUNC,
                     reinterpret_cast<sockaddr*>(&from), &from_len);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadOutcome::kEmpty;
    if (errno == ENOBUFS) {
      ++overflows_;
      return ReadOutcome::kOverflow;
    }
    throw std::system_error(errno, std::generic_category(), "recv from the proc connector");
  }
  if (from.nl_pid != 0 || static_cast<std::size_t>(got) > buffer_.size()) {
    ++malformed_;  // not from the kernel, or cut: nothing in it can be trusted
    return ReadOutcome::kDatagram;
  }
  last_ = parse_datagram(std::span(buffer_.data(), static_cast<std::size_t>(got)), decoded_,
                         fd_.port());
  malformed_ += last_.malformed + last_.dropped;
  if (last_.acked) {
    acknowledged_ = true;
    if (last_.ack_error != 0)
      throw std::system_error(static_cast<int>(last_.ack_error), std::generic_category(),
                              "the kernel refused PROC_CN_MCAST_LISTEN");
  }
  return ReadOutcome::kDatagram;
}

}  // namespace procmond
