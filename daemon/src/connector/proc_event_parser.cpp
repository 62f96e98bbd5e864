#include "connector/proc_event_parser.hpp"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <cstring>
#include <utility>

namespace procmond {
namespace {

// What a message of each kind must hold: the fixed head (what, cpu,
// timestamp) and that kind's part of the union. Older or newer kernels may
// send a longer proc_event (the union grows); never a shorter one we accept.
constexpr std::size_t kHead = offsetof(proc_event, event_data);
constexpr std::size_t kForkBytes = kHead + sizeof(std::declval<proc_event&>().event_data.fork);
constexpr std::size_t kExecBytes = kHead + sizeof(std::declval<proc_event&>().event_data.exec);
// exit_code and exit_signal; the parent fields (Linux 5.x) are not needed.
constexpr std::size_t kExitBytes =
    offsetof(proc_event, event_data.exit.exit_signal) + sizeof(std::uint32_t);
constexpr std::size_t kAckBytes = kHead + sizeof(std::declval<proc_event&>().event_data.ack);
static_assert(kHead == 16 && sizeof(cn_msg) == 20 && NLMSG_HDRLEN == 16,
              "max_events_per_datagram assumes these sizes");

enum class Outcome { kEvent, kThread, kIgnored, kMalformed, kAck };

// One cn_msg's payload (cn_msg.len bytes, already bounds-checked).
Outcome decode_event(std::span<const std::byte> body, std::uint32_t ack, std::uint32_t ack_seq,
                     ConnectorEvent& out, std::uint32_t& ack_error) {
  if (body.size() < kHead) return Outcome::kMalformed;
  proc_event ev;
  std::memset(&ev, 0, sizeof ev);
  std::memcpy(&ev, body.data(), std::min(body.size(), sizeof ev));
  const auto need = [&](std::size_t bytes) { return body.size() >= bytes; };
  out.mono_ns = ev.timestamp_ns;
  switch (static_cast<std::uint32_t>(ev.what)) {
    case proc_event::PROC_EVENT_FORK: {
      if (!need(kForkBytes)) return Outcome::kMalformed;
      const auto& f = ev.event_data.fork;
      if (f.child_pid != f.child_tgid) return Outcome::kThread;  // clone(CLONE_THREAD)
      out.kind = ConnectorEvent::Kind::kFork;
      out.pid = f.child_tgid;
      out.ppid = f.parent_tgid;  // the real parent's process, not the cloning thread
      out.exit_status = 0;
      return Outcome::kEvent;
    }
    case proc_event::PROC_EVENT_EXEC: {
      if (!need(kExecBytes)) return Outcome::kMalformed;
      const auto& e = ev.event_data.exec;
      // A thread that execs takes the leader's pid first (de_thread), so the
      // kernel reports pid == tgid; the check is only for safety.
      if (e.process_pid != e.process_tgid) return Outcome::kThread;
      out.kind = ConnectorEvent::Kind::kExec;
      out.pid = e.process_tgid;
      out.ppid = 0;
      out.exit_status = 0;
      return Outcome::kEvent;
    }
    case proc_event::PROC_EVENT_EXIT: {
      if (!need(kExitBytes)) return Outcome::kMalformed;
      const auto& x = ev.event_data.exit;
      if (x.process_pid != x.process_tgid) return Outcome::kThread;  // one thread of many
      out.kind = ConnectorEvent::Kind::kExit;
      out.pid = x.process_tgid;
      out.ppid = 0;
      out.exit_status = static_cast<std::int32_t>(x.exit_code);  // task->exit_code: wait(2)'s
      return Outcome::kEvent;
    }
    case proc_event::PROC_EVENT_NONE:
      if (!need(kAckBytes)) return Outcome::kMalformed;
      // The kernel answers a request with cn_msg.ack + 1 (and seq = that ack).
      if (ack != ack_seq + 1) return Outcome::kIgnored;  // another listener's answer
      ack_error = ev.event_data.ack.err;
      return Outcome::kAck;
    default:
      return Outcome::kIgnored;  // uid, gid, sid, ptrace, comm, coredump: not used
  }
}

}  // namespace

ParsedDatagram parse_datagram(std::span<const std::byte> data, std::span<ConnectorEvent> out,
                              std::uint32_t ack_seq) {
  ParsedDatagram r;
  while (data.size() >= NLMSG_HDRLEN) {
    nlmsghdr h;
    std::memcpy(&h, data.data(), sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > data.size()) {
      ++r.malformed;  // a length we cannot trust: nothing after it can be framed
      return r;
    }
    const auto payload = data.subspan(NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN);
    // The connector sends every message as NLMSG_DONE; NOOP, ERROR, OVERRUN
    // are netlink's own.
    if (h.nlmsg_type != NLMSG_DONE) {
      ++r.ignored;
    } else if (payload.size() < sizeof(cn_msg)) {
      ++r.malformed;
    } else {
      cn_msg cn;
      std::memcpy(&cn, payload.data(), sizeof cn);
      if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC) {
        ++r.ignored;
      } else if (cn.len > payload.size() - sizeof(cn_msg)) {
        ++r.malformed;
      } else {
        ConnectorEvent ev;
        std::uint32_t ack_error = 0;
        switch (
            decode_event(payload.subspan(sizeof(cn_msg), cn.len), cn.ack, ack_seq, ev, ack_error)) {
          case Outcome::kEvent:
            if (r.events < out.size())
              out[r.events++] = ev;
            else
              ++r.dropped;
            break;
          case Outcome::kThread:
            ++r.threads;
            break;
          case Outcome::kIgnored:
            ++r.ignored;
            break;
          case Outcome::kMalformed:
            ++r.malformed;
            break;
          case Outcome::kAck:
            r.acked = true;
            r.ack_error = ack_error;
            break;
        }
      }
    }
    const std::size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step >= data.size()) break;  // the last message (its padding may be cut)
    data = data.subspan(step);
  }
  if (!data.empty() && data.size() < NLMSG_HDRLEN) ++r.malformed;  // a stub of a header
  return r;
}

}  // namespace procmond
