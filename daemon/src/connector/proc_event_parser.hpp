#pragma once
// Decodes the datagrams of the netlink proc connector: nlmsghdr, cn_msg,
// proc_event, each length checked before a byte of it is read. Pure (no
// socket), so that hostile and truncated input can be tested.

#include <cstddef>
#include <cstdint>
#include <span>

#include "connector/connector_event.hpp"

namespace procmond {

struct ParsedDatagram {
  std::size_t events = 0;     // process events written to `out`
  std::size_t threads = 0;    // a thread's fork or exit (or exec), left out
  std::size_t ignored = 0;    // not ours: other connectors, other event kinds, NLMSG_NOOP...
  std::size_t malformed = 0;  // a length that does not add up; the rest of the datagram dropped
  std::size_t dropped = 0;    // process events past out.size()
  // The kernel's answer to a PROC_CN_MCAST_* request whose cn_msg ack was `ack_seq`.
  bool acked = false;
  std::uint32_t ack_error = 0;
};

// The most events one datagram of `bytes` bytes can hold (every message at
// its smallest): an `out` this large never drops.
constexpr std::size_t max_events_per_datagram(std::size_t bytes) {
  return bytes / 52 + 1;  // NLMSG_HDRLEN 16 + cn_msg 20 + proc_event's fixed head 16
}

// Decodes each process event of one datagram into `out`, in order. A request
// answer (PROC_EVENT_NONE) counts as `acked` only when it answers `ack_seq`
// (its cn_msg.ack is ack_seq + 1): the connector multicasts every listener's
// answers to every listener.
ParsedDatagram parse_datagram(std::span<const std::byte> data, std::span<ConnectorEvent> out,
                              std::uint32_t ack_seq);

}  // namespace procmond
