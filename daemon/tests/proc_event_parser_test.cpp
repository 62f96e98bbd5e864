#include "connector/proc_event_parser.hpp"

#include <gtest/gtest.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <array>
#include <cstring>
#include <vector>

namespace procmond {
namespace {

// One netlink message as the kernel frames a proc connector event; `event`
// is cut to `event_len` bytes to make short ones.
void append_message(std::vector<std::byte>& out, const proc_event& event,
                    std::size_t event_len = sizeof(proc_event), std::uint32_t cn_idx = CN_IDX_PROC,
                    std::uint32_t ack = 0, std::uint16_t type = NLMSG_DONE) {
  const std::size_t payload = sizeof(cn_msg) + event_len;
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(payload));
  h.nlmsg_type = type;
  cn_msg cn{};
  cn.id.idx = cn_idx;
  cn.id.val = CN_VAL_PROC;
  cn.seq = ack;  // as the kernel answers: seq = the request's ack, ack = that + 1
  cn.ack = ack + 1;
  cn.len = static_cast<std::uint16_t>(event_len);
  const std::size_t start = out.size();
  out.resize(start + NLMSG_SPACE(payload));
  std::memcpy(out.data() + start, &h, sizeof h);
  std::memcpy(out.data() + start + NLMSG_HDRLEN, &cn, sizeof cn);
  std::memcpy(out.data() + start + NLMSG_HDRLEN + sizeof cn, &event, event_len);
}

proc_event fork_event(pid_t parent, pid_t child_pid, pid_t child_tgid) {
  proc_event e{};
  e.what = proc_event::PROC_EVENT_FORK;
  e.timestamp_ns = 111;
  e.event_data.fork.parent_pid = parent;
  e.event_data.fork.parent_tgid = parent;
  e.event_data.fork.child_pid = child_pid;
  e.event_data.fork.child_tgid = child_tgid;
  return e;
}

proc_event exit_event(pid_t pid, pid_t tgid, std::uint32_t code) {
  proc_event e{};
  e.what = proc_event::PROC_EVENT_EXIT;
  e.timestamp_ns = 333;
  e.event_data.exit.process_pid = pid;
  e.event_data.exit.process_tgid = tgid;
  e.event_data.exit.exit_code = code;
  return e;
}

struct Parsed {
  ParsedDatagram result;
  std::vector<ConnectorEvent> events;
};

Parsed parse(const std::vector<std::byte>& data, std::size_t room = 16, std::uint32_t seq = 7) {
  Parsed p;
  p.events.resize(room);
  p.result = parse_datagram(data, p.events, seq);
  p.events.resize(p.result.events);
  return p;
}

TEST(ProcEventParser, DecodesForkExecExitInOrder) {
  std::vector<std::byte> data;
  append_message(data, fork_event(10, 20, 20));
  proc_event exec{};
  exec.what = proc_event::PROC_EVENT_EXEC;
  exec.timestamp_ns = 222;
  exec.event_data.exec.process_pid = 20;
  exec.event_data.exec.process_tgid = 20;
  append_message(data, exec);
  append_message(data, exit_event(20, 20, 7 << 8));
  const Parsed p = parse(data);
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0].kind, ConnectorEvent::Kind::kFork);
  EXPECT_EQ(p.events[0].pid, 20);
  EXPECT_EQ(p.events[0].ppid, 10);
  EXPECT_EQ(p.events[0].mono_ns, 111u);
  EXPECT_EQ(p.events[1].kind, ConnectorEvent::Kind::kExec);
  EXPECT_EQ(p.events[1].pid, 20);
  EXPECT_EQ(p.events[2].kind, ConnectorEvent::Kind::kExit);
  EXPECT_EQ(p.events[2].exit_status, 7 << 8);
  EXPECT_EQ(p.events[2].mono_ns, 333u);
  EXPECT_EQ(p.result.malformed, 0u);
}

TEST(ProcEventParser, LeavesThreadsOut) {
  std::vector<std::byte> data;
  append_message(data, fork_event(10, 21, 20));  // a thread of 20
  append_message(data, exit_event(21, 20, 0));   // its exit
  const Parsed p = parse(data);
  EXPECT_TRUE(p.events.empty());
  EXPECT_EQ(p.result.threads, 2u);
}

TEST(ProcEventParser, IgnoresWhatIsNotOurs) {
  std::vector<std::byte> data;
  append_message(data, fork_event(10, 20, 20), sizeof(proc_event), /*cn_idx=*/CN_IDX_CIFS);
  append_message(data, fork_event(10, 20, 20), sizeof(proc_event), CN_IDX_PROC, 0, NLMSG_NOOP);
  proc_event uid{};
  uid.what = proc_event::PROC_EVENT_UID;
  append_message(data, uid);
  proc_event ack{};
  ack.what = proc_event::PROC_EVENT_NONE;
  append_message(data, ack, sizeof ack, CN_IDX_PROC, /*ack=*/99);  // another listener's answer
  const Parsed p = parse(data);
  EXPECT_TRUE(p.events.empty());
  EXPECT_EQ(p.result.ignored, 4u);
  EXPECT_FALSE(p.result.acked);
  EXPECT_EQ(p.result.malformed, 0u);
}

TEST(ProcEventParser, TakesOurAckAndItsError) {
  std::vector<std::byte> data;
  proc_event ack{};
  ack.what = proc_event::PROC_EVENT_NONE;
  ack.event_data.ack.err = EPERM;
  append_message(data, ack, sizeof ack, CN_IDX_PROC, /*ack=*/7);
  const Parsed p = parse(data, 16, 7);
  EXPECT_TRUE(p.result.acked);
  EXPECT_EQ(p.result.ack_error, static_cast<std::uint32_t>(EPERM));
}

TEST(ProcEventParser, ShortEventIsMalformedNotRead) {
  std::vector<std::byte> data;
  // The head and half of the fork part: child_pid/child_tgid missing.
  append_message(data, fork_event(10, 20, 20), 16 + 8);
  append_message(data, exit_event(30, 30, 0));  // still framed, still read
  const Parsed p = parse(data);
  EXPECT_EQ(p.result.malformed, 1u);
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].pid, 30);
}

TEST(ProcEventParser, LengthsThatLieStopTheDatagram) {
  std::vector<std::byte> one;
  append_message(one, exit_event(30, 30, 0));

  auto with_nlmsg_len = [&](std::uint32_t len) {
    std::vector<std::byte> d = one;
    std::memcpy(d.data(), &len, sizeof len);
    return parse(d);
  };
  EXPECT_EQ(with_nlmsg_len(static_cast<std::uint32_t>(one.size() + 1)).result.malformed, 1u);
  EXPECT_EQ(with_nlmsg_len(4).result.malformed, 1u);  // shorter than its own header
  EXPECT_TRUE(with_nlmsg_len(4).events.empty());

  std::vector<std::byte> cn_too_long = one;
  const std::uint16_t len = 0xffff;
  std::memcpy(cn_too_long.data() + NLMSG_HDRLEN + offsetof(cn_msg, len), &len, sizeof len);
  const Parsed p = parse(cn_too_long);
  EXPECT_EQ(p.result.malformed, 1u);
  EXPECT_TRUE(p.events.empty());

  for (std::size_t cut = 1; cut < one.size(); ++cut) {  // every truncation
    const std::vector<std::byte> d(one.begin(), one.begin() + static_cast<std::ptrdiff_t>(cut));
    const Parsed q = parse(d);
    EXPECT_TRUE(q.events.empty()) << cut;
    EXPECT_GE(q.result.malformed, 1u) << cut;
  }
  EXPECT_EQ(parse({}).result.malformed, 0u);
}

TEST(ProcEventParser, CountsWhatDoesNotFit) {
  std::vector<std::byte> data;
  for (pid_t pid = 1; pid <= 3; ++pid) append_message(data, exit_event(pid, pid, 0));
  const Parsed p = parse(data, 2);
  EXPECT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.result.dropped, 1u);
  EXPECT_GE(max_events_per_datagram(data.size()), 3u);
}

}  // namespace
}  // namespace procmond
