// The BPF collector's decoding, on crafted records: no kernel, no privilege.
#include "task_records.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace procmond::bpf {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

TEST(StateLetter, NamesEveryStateAsProcDoes) {
  EXPECT_EQ(state_letter(0x0000, 0), 'R');
  EXPECT_EQ(state_letter(0x0001, 0), 'S');
  EXPECT_EQ(state_letter(0x0002, 0), 'D');
  EXPECT_EQ(state_letter(0x0004, 0), 'T');  // __TASK_STOPPED
  EXPECT_EQ(state_letter(0x0008, 0), 't');  // __TASK_TRACED
  EXPECT_EQ(state_letter(0x0000, 0x20), 'Z');
  EXPECT_EQ(state_letter(0x0000, 0x10), 'X');
  EXPECT_EQ(state_letter(0x0040, 0), 'P');
  EXPECT_EQ(state_letter(0x0402, 0), 'I');     // TASK_IDLE: uninterruptible, no load
  EXPECT_EQ(state_letter(0x8001, 0), 'D');     // frozen reads as disk sleep
  EXPECT_EQ(state_letter(0x1000, 0), 'D');     // waiting on an rt lock
  EXPECT_EQ(state_letter(0x0101, 0), 'S');     // TASK_WAKEKILL is not reported
  EXPECT_EQ(state_letter(0x0001, 0x20), 'Z');  // the highest reported bit wins
}

TEST(AdjustCputime, ScalesTheSampledSplitToTheExactRuntime) {
  // 30 ms sampled user, 10 ms system; the scheduler counted 100 ms.
  CpuSplit s =
      adjust_cputime({.runtime_ns = 100 * kMs, .utime_ns = 30 * kMs, .stime_ns = 10 * kMs}, {});
  EXPECT_EQ(s.stime_ns, 25 * kMs);
  EXPECT_EQ(s.utime_ns, 75 * kMs);
}

TEST(AdjustCputime, AllUserWithoutASystemTickAndAllSystemWithoutAUserOne) {
  EXPECT_EQ(adjust_cputime({.runtime_ns = 7 * kMs}, {}).utime_ns, 7 * kMs);
  CpuSplit s = adjust_cputime({.runtime_ns = 7 * kMs, .stime_ns = 1}, {});
  EXPECT_EQ(s.stime_ns, 7 * kMs);
  EXPECT_EQ(s.utime_ns, 0u);
}

TEST(AdjustCputime, NeitherSideGoesBelowThePreviousSplit) {
  // The ratio moved towards user, but system already reported 50 ms.
  CpuSplit s = adjust_cputime({.runtime_ns = 100 * kMs, .utime_ns = 90 * kMs, .stime_ns = 10 * kMs},
                              {.utime_ns = 40 * kMs, .stime_ns = 50 * kMs});
  EXPECT_EQ(s.stime_ns, 50 * kMs);
  EXPECT_EQ(s.utime_ns, 50 * kMs);
  // And the other way: user already reported 80 ms.
  s = adjust_cputime({.runtime_ns = 100 * kMs, .utime_ns = 10 * kMs, .stime_ns = 90 * kMs},
                     {.utime_ns = 80 * kMs, .stime_ns = 15 * kMs});
  EXPECT_EQ(s.utime_ns, 80 * kMs);
  EXPECT_EQ(s.stime_ns, 20 * kMs);
}

TEST(AdjustCputime, APreviousSplitAtOrAboveTheRuntimeStands) {
  CpuSplit prev{.utime_ns = 60 * kMs, .stime_ns = 50 * kMs};
  CpuSplit s = adjust_cputime({.runtime_ns = 100 * kMs, .utime_ns = 1, .stime_ns = 1}, prev);
  EXPECT_EQ(s.utime_ns, prev.utime_ns);
  EXPECT_EQ(s.stime_ns, prev.stime_ns);
}

TEST(NextSplit, StartsFromTheSplitProcReportedWhenItIsTheLater) {
  // /proc reported 60/40 since our 50/30: from its floor we report what it would.
  const GroupCpu cpu{.runtime_ns = 120 * kMs, .utime_ns = 50 * kMs, .stime_ns = 50 * kMs};
  const CpuSplit proc{.utime_ns = 60 * kMs, .stime_ns = 40 * kMs};
  const CpuSplit s = next_split(cpu, {.utime_ns = 50 * kMs, .stime_ns = 30 * kMs}, proc);
  const CpuSplit expected = adjust_cputime(cpu, proc);
  EXPECT_EQ(s.utime_ns, expected.utime_ns);
  EXPECT_EQ(s.stime_ns, expected.stime_ns);
  EXPECT_EQ(next_split(cpu, {}, proc).utime_ns, expected.utime_ns);  // first sight
}

// We reported 80/20 of 100 ms; /proc then worked out 70/35 of 105 ms from an
// older floor. From /proc's (the larger total) utime would go back to 71;
// from ours it stays at 80.
TEST(NextSplit, NeitherSideGoesBelowOurLastSplitThoughProcsHasMoreInAll) {
  const CpuSplit ours{.utime_ns = 80 * kMs, .stime_ns = 20 * kMs};
  const CpuSplit proc{.utime_ns = 70 * kMs, .stime_ns = 35 * kMs};
  const GroupCpu cpu{.runtime_ns = 106 * kMs, .utime_ns = 2 * kMs, .stime_ns = 1 * kMs};
  ASSERT_LT(adjust_cputime(cpu, proc).utime_ns, ours.utime_ns);  // the fall avoided
  const CpuSplit s = next_split(cpu, ours, proc);
  EXPECT_GE(s.utime_ns, ours.utime_ns);
  EXPECT_GE(s.stime_ns, ours.stime_ns);
  EXPECT_EQ(s.total(), cpu.runtime_ns);
}

procmond_process_record process(pid_t pid, const char* comm) {
  procmond_process_record r{};
  r.leader.kind = PROCMOND_RECORD_PROCESS;
  r.leader.tgid = pid;
  std::strncpy(r.comm, comm, sizeof(r.comm) - 1);
  return r;
}

TEST(StatComm, AWorkqueueWorkerCarriesItsWorkAsProcShowsIt) {
  auto r = process(10, "kworker/0:2");
  std::strcpy(r.wq_desc, "events_power_efficient");
  r.wq_mark = '-';
  Comm c;
  stat_comm(r, c);
  EXPECT_EQ(c.view(), "kworker/0:2-events_power_efficient");
  r.wq_mark = '+';
  stat_comm(r, c);
  EXPECT_EQ(c.view(), "kworker/0:2+events_power_efficient");
  r.wq_desc[0] = '\0';  // a worker with no work yet: the name alone
  stat_comm(r, c);
  EXPECT_EQ(c.view(), "kworker/0:2");
}

TEST(StatComm, StopsAt63BytesAsProcsBufferDoes) {
  auto r = process(10, "");
  std::memset(r.comm, 'k', 50);
  std::memset(r.wq_desc, 'd', sizeof(r.wq_desc) - 1);
  r.wq_mark = '+';
  Comm c;
  stat_comm(r, c);
  ASSERT_EQ(c.view().size(), 63u);
  EXPECT_EQ(c.view()[50], '+');
  EXPECT_EQ(c.view().substr(51), std::string(12, 'd'));
}

TEST(StatComm, AHostileNameIsCopiedNotInterpreted) {
  auto r = process(10, "a) R 1 (\nVmHWM");
  Comm c;
  stat_comm(r, c);
  EXPECT_EQ(c.view(), "a) R 1 (\nVmHWM");
}

class Stream {
 public:
  template <typename T>
  Stream& add(const T& record) {
    const char* p = reinterpret_cast<const char*>(&record);
    bytes.insert(bytes.end(), p, p + sizeof(record));
    return *this;
  }
  std::vector<char> bytes;
};

procmond_thread_record thread(pid_t tgid, std::uint64_t u, std::uint64_t s, std::uint64_t run) {
  return {.kind = PROCMOND_RECORD_THREAD,
          .tgid = tgid,
          .utime_ns = u,
          .stime_ns = s,
          .runtime_ns = run};
}

TEST(Decode, SumsLiveThreadsAndExitedOnesIntoTheirProcess) {
  auto p = process(100, "app");
  p.leader.utime_ns = 1;
  p.leader.stime_ns = 2;
  p.leader.runtime_ns = 3;
  p.exited_utime_ns = 10;
  p.exited_stime_ns = 20;
  p.exited_runtime_ns = 30;
  p.nr_threads = 3;
  auto other = process(200, "other");
  Stream s;
  s.add(p).add(thread(100, 100, 200, 300)).add(other).add(thread(100, 1000, 2000, 3000));
  TaskRecordDecoder d({.ns_per_tick = 10 * kMs, .page_size = 4096});
  std::vector<ProcessRecord> out;
  ASSERT_TRUE(d.decode(s.bytes, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].stat.pid, 100);
  EXPECT_EQ(d.cpu()[0].cpu.utime_ns, 1111u);
  EXPECT_EQ(d.cpu()[0].cpu.stime_ns, 2222u);
  EXPECT_EQ(d.cpu()[0].cpu.runtime_ns, 3333u);
  EXPECT_EQ(out[0].stat.threads, 3u);
  EXPECT_EQ(d.cpu()[1].cpu.runtime_ns, 0u);
}

TEST(Decode, ConvertsUnitsAsProcDoes) {
  auto p = process(7, "x");
  p.start_boottime_ns = 123'456 * kMs;  // 123.456 s: 12345 ticks at 100 Hz
  p.cutime_ns = 25 * kMs;
  p.total_vm_pages = 10;
  p.rss_pages[0] = 5;
  p.rss_pages[1] = -3;  // a folded count below zero reads as 0
  p.rss_pages[2] = 2;
  p.state = 0x0004;
  Stream s;
  s.add(p);
  TaskRecordDecoder d({.ns_per_tick = 10 * kMs, .page_size = 4096});
  std::vector<ProcessRecord> out;
  ASSERT_TRUE(d.decode(s.bytes, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].stat.start_time, 12345u);
  EXPECT_EQ(out[0].stat.cutime, 2u);
  EXPECT_EQ(out[0].stat.vsize_bytes, 40960u);
  EXPECT_EQ(out[0].stat.rss_pages, 7u);
  EXPECT_EQ(out[0].rss_bytes, 7u * 4096);
  EXPECT_EQ(out[0].stat.state, 'T');
}

// A kernel thread may borrow a process's mm for a while (kthread_use_mm);
// /proc shows it none, and neither do we.
TEST(Decode, AKernelThreadHasNoMemoryEvenWithABorrowedMm) {
  auto p = process(7, "io_worker");
  p.flags = 0x00200000;  // PF_KTHREAD
  p.total_vm_pages = 10;
  p.rss_pages[1] = 5;
  p.start_code = p.end_code = p.start_stack = p.arg_start = p.arg_end = p.env_start = p.env_end =
      0x1000;
  auto user = p;
  user.leader.tgid = 8;
  user.flags = 0;
  Stream s;
  s.add(p).add(user);
  TaskRecordDecoder d({.ns_per_tick = 10 * kMs, .page_size = 4096});
  std::vector<ProcessRecord> out;
  ASSERT_TRUE(d.decode(s.bytes, out));
  ASSERT_EQ(out.size(), 2u);
  const StatFields& k = out[0].stat;
  EXPECT_TRUE(k.kernel_thread());
  EXPECT_EQ(k.vsize_bytes, 0u);
  EXPECT_EQ(k.rss_pages, 0u);
  EXPECT_EQ(out[0].rss_bytes, 0u);
  for (std::uint64_t a :
       {k.start_code, k.end_code, k.start_stack, k.arg_start, k.arg_end, k.env_start, k.env_end})
    EXPECT_EQ(a, 0u);
  EXPECT_EQ(out[1].stat.vsize_bytes, 40960u);  // the same record as a process's: all there
  EXPECT_EQ(out[1].stat.rss_pages, 5u);
  EXPECT_EQ(out[1].stat.end_code, 0x1000u);
}

TEST(Decode, AThreadBeforeItsLeaderOrWithoutOneIsHandled) {
  auto b = process(300, "b");
  b.leader.runtime_ns = 7;
  b.prev_utime_ns = 4;
  Stream s;
  // Out of order (a kernel that walked otherwise), and a thread of a process never seen.
  s.add(b).add(thread(100, 5, 0, 5)).add(process(100, "a")).add(thread(999, 1, 1, 1));
  TaskRecordDecoder d({});
  std::vector<ProcessRecord> out;
  ASSERT_TRUE(d.decode(s.bytes, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].stat.pid, 100);
  EXPECT_EQ(d.cpu()[0].cpu.runtime_ns, 5u);
  EXPECT_EQ(out[1].stat.pid, 300);  // its CPU sorted with it
  EXPECT_EQ(d.cpu()[1].cpu.runtime_ns, 7u);
  EXPECT_EQ(d.cpu()[1].kernel_prev.utime_ns, 4u);
}

TEST(Decode, RefusesBytesThatAreNotWholeRecords) {
  TaskRecordDecoder d({});
  std::vector<ProcessRecord> out;
  Stream s;
  s.add(process(1, "a"));
  std::vector<char> cut(s.bytes.begin(), s.bytes.end() - 1);
  EXPECT_FALSE(d.decode(cut, out));
  std::vector<char> unknown(sizeof(procmond_thread_record), 0);
  EXPECT_FALSE(d.decode(unknown, out));  // kind 0
  std::vector<char> short_head(5, 0);
  EXPECT_FALSE(d.decode(short_head, out));
  EXPECT_TRUE(d.decode({}, out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace procmond::bpf

namespace procmond::bpf {
namespace {

// As TaskIterator::walk hands the bytes over: each read's, after what the
// last take() left of a record the read cut.
bool decode_in_reads(TaskRecordDecoder& d, const std::vector<char>& bytes, std::size_t cut,
                     std::vector<ProcessRecord>& out) {
  d.begin(out);
  std::vector<char> pending;
  for (std::size_t at = 0; at < bytes.size();) {
    std::size_t n = std::min(cut, bytes.size() - at);
    pending.insert(pending.end(), bytes.begin() + at, bytes.begin() + at + n);
    at += n;
    auto used = d.take(pending, out);
    if (!used) return false;
    pending.erase(pending.begin(), pending.begin() + *used);
  }
  if (!pending.empty()) return false;
  d.finish(out);
  return true;
}

TEST(Decode, RecordsCutByAnyReadAreJoined) {
  Stream s;
  s.add(process(100, "a")).add(thread(100, 1, 2, 3)).add(process(200, "b"));
  TaskRecordDecoder d({});
  for (std::size_t cut = 1; cut <= s.bytes.size(); ++cut) {
    std::vector<ProcessRecord> out;
    ASSERT_TRUE(decode_in_reads(d, s.bytes, cut, out)) << "reads of " << cut;
    ASSERT_EQ(out.size(), 2u) << "reads of " << cut;
    EXPECT_EQ(out[0].stat.comm.view(), "a");
    EXPECT_EQ(d.cpu()[0].cpu.runtime_ns, 3u);
    EXPECT_EQ(out[1].stat.pid, 200);
  }
}

TEST(Decode, TakeLeavesACutRecordAndRefusesAnUnknownOne) {
  Stream s;
  s.add(process(100, "a"));
  TaskRecordDecoder d({});
  std::vector<ProcessRecord> out;
  d.begin(out);
  std::vector<char> cut(s.bytes.begin(), s.bytes.end() - 1);
  EXPECT_EQ(d.take(cut, out), 0u);
  EXPECT_EQ(d.take(s.bytes, out), s.bytes.size());
  std::vector<char> unknown(sizeof(procmond_thread_record), 0);
  EXPECT_EQ(d.take(unknown, out), std::nullopt);
}

}  // namespace
}  // namespace procmond::bpf
