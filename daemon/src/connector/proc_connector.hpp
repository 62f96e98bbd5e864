#pragma once
// The kernel's netlink proc connector: every fork, exec and exit on the
// machine, as it happens, for a listener with CAP_NET_ADMIN. The daemon uses
// it beside the /proc poll so that a process living 50 ms is still seen.
//
// Events are pids of the initial pid namespace. The kernel drops events when
// the receive buffer is full (ENOBUFS): drain() says so, and the caller must
// rescan /proc, since forks and exits were lost.
//
// What the kernel sends, measured on 6.18 (each event names one thread, and
// a process's exit is its leader thread's):
// - a thread other than the leader that execs: the leader's exit (status 0),
//   then exec, for the same pid: the process lives on. A consumer that sees
//   an exec of a pid it holds as exited, with no fork between, must revive it.
// - a leader that calls pthread_exit while other threads run: its exit
//   (status 0) is the process's, early; the real end and status come from
//   the last thread, which is left out. /proc shows such a leader as a zombie.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "connector/connector_event.hpp"
#include "connector/proc_event_parser.hpp"
#include "procmon/unique_fd.hpp"

namespace procmond {

struct ConnectorOptions {
  // What a burst costs: each event is a ~100-byte datagram, about 1 KiB of
  // buffer with the kernel's skb overhead, so 64 MiB holds some 60,000
  // events queued while the daemon is busy.
  static constexpr std::size_t kDefaultRcvbuf = std::size_t{64} << 20;
  std::size_t rcvbuf_bytes = kDefaultRcvbuf;
  // SO_RCVBUFFORCE (CAP_NET_ADMIN) passes net.core.rmem_max; without it, or
  // when it is refused, SO_RCVBUF is capped at rmem_max.
  bool force_rcvbuf = true;
};

class ProcConnector {
 public:
  struct DrainResult {
    std::size_t events = 0;   // process events passed to the sink
    bool overflowed = false;  // ENOBUFS: the kernel dropped events since the last drain
  };

  // Opens NETLINK_CONNECTOR, joins CN_IDX_PROC and asks the kernel to
  // multicast (PROC_CN_MCAST_LISTEN). nullopt, with the reason in *why_not,
  // when it may not (EPERM: "needs root or CAP_NET_ADMIN") or cannot.
  static std::optional<ProcConnector> open(const ConnectorOptions& options,
                                           std::string* why_not = nullptr);

  // Movable, not copyable; destroying (or assigning over) a listening one
  // sends PROC_CN_MCAST_IGNORE, then closes the socket.
  ProcConnector(ProcConnector&&) noexcept = default;
  ProcConnector& operator=(ProcConnector&&) noexcept = default;

  // Non-blocking: wait on it for readability (poll, Asio's async_wait), then drain().
  int fd() const { return fd_.get(); }

  // Reads every datagram queued now, without blocking, and calls
  // sink(const ConnectorEvent&) for each process event (threads left out),
  // in the kernel's order. No allocation. Throws std::system_error on a
  // socket error other than ENOBUFS (which it counts and reports).
  template <class Sink>
  DrainResult drain(Sink&& sink) {
    DrainResult result;
    for (;;) {
      const ReadOutcome read = read_datagram();
      if (read == ReadOutcome::kEmpty) return result;
      if (read == ReadOutcome::kOverflow) {
        result.overflowed = true;
        continue;
      }
      for (std::size_t i = 0; i < last_.events; ++i) sink(std::as_const(decoded_[i]));
      result.events += last_.events;
    }
  }

  // Times the kernel said ENOBUFS since open.
  std::uint64_t overflows() const { return overflows_; }
  // The receive buffer the kernel granted (getsockopt: twice what was set),
  // and whether SO_RCVBUFFORCE was used (false: capped by net.core.rmem_max).
  std::size_t rcvbuf_bytes() const { return rcvbuf_bytes_; }
  bool rcvbuf_forced() const { return rcvbuf_forced_; }
  // The kernel's answer to our LISTEN, seen by a drain: false until then
  // (a listener in another pid or user namespace is never answered, nor sent events).
  bool acknowledged() const { return acknowledged_; }
  // Messages left out since open: malformed ones (should stay 0), and others'.
  std::uint64_t malformed() const { return malformed_; }

 private:
  // The socket, and the kernel's count of listeners: IGNORE is sent before
  // close (kernels before 6.6 never drop a closed socket from the count, and
  // keep building events for nobody).
  class Listener {
   public:
    Listener(procmon::UniqueFd fd, std::uint32_t port);
    Listener(Listener&&) noexcept = default;
    Listener& operator=(Listener&& other) noexcept;
    ~Listener();
    int get() const { return fd_.get(); }
    std::uint32_t port() const { return port_; }

   private:
    procmon::UniqueFd fd_;
    std::uint32_t port_ = 0;  // our netlink port id, also the seq of our requests
    // A forked child shares the socket: were it to send IGNORE (a test child
    // unwinding, say), the kernel would stop sending to the parent too.
    pid_t owner_ = 0;
  };

  enum class ReadOutcome { kEmpty, kDatagram, kOverflow };
  explicit ProcConnector(Listener listener);
  ReadOutcome read_datagram();  // one recv, decoded into decoded_ / last_

  static constexpr std::size_t kRecvBuffer = 64 * 1024;
  Listener fd_;
  std::vector<std::byte> buffer_;
  std::vector<ConnectorEvent> decoded_;
  ParsedDatagram last_;
  std::uint64_t overflows_ = 0;
  std::uint64_t malformed_ = 0;
  std::size_t rcvbuf_bytes_ = 0;
  bool rcvbuf_forced_ = false;
  bool acknowledged_ = false;
};

}  // namespace procmond
