#include "task_records.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>

namespace procmond::bpf {

namespace {

// include/linux/sched.h. TASK_REPORT is every state /proc names; an idle
// uninterruptible sleep (TASK_NOLOAD) is reported 'I', a frozen task or one
// waiting on an rt lock as 'D'.
constexpr std::uint32_t kTaskUninterruptible = 0x0002;
constexpr std::uint32_t kTaskNoload = 0x0400;
constexpr std::uint32_t kTaskIdle = kTaskUninterruptible | kTaskNoload;
constexpr std::uint32_t kTaskRtlockWait = 0x1000;
constexpr std::uint32_t kTaskFrozen = 0x8000;
constexpr std::uint32_t kTaskReport = 0x7f;
constexpr std::uint32_t kTaskReportIdle = kTaskReport + 1;
constexpr char kStateLetters[] = "RSDTtXZPI";

// a * b / c without overflow (mul_u64_u64_div_u64).
std::uint64_t mul_div(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  __extension__ using U128 = unsigned __int128;  // GCC and clang: exact, as the kernel's
  return static_cast<std::uint64_t>(static_cast<U128>(a) * b / c);
}

}  // namespace

CpuSplit adjust_cputime(const GroupCpu& cpu, const CpuSplit& prev) {
  const std::uint64_t rtime = cpu.runtime_ns;
  // rtime is monotonic; an older split at or above it stands.
  if (prev.total() >= rtime) return prev;
  std::uint64_t stime = cpu.stime_ns;
  std::uint64_t utime = cpu.utime_ns;
  // No tick of one kind yet: all of it is the other (all user when neither).
  if (stime == 0) {
    utime = rtime;
  } else if (utime == 0) {
    stime = rtime;
  } else {
    stime = std::min(mul_div(stime, rtime, stime + utime), rtime);
  }
  // Neither side goes backwards: stime first, then utime.
  if (stime < prev.stime_ns) stime = prev.stime_ns;
  utime = rtime - stime;
  if (utime < prev.utime_ns) {
    utime = prev.utime_ns;
    stime = rtime - utime;
  }
  return {utime, stime};
}

CpuSplit next_split(const GroupCpu& cpu, const CpuSplit& reported, const CpuSplit& kernel_prev) {
  const bool proc_is_later =
      kernel_prev.utime_ns >= reported.utime_ns && kernel_prev.stime_ns >= reported.stime_ns;
  return adjust_cputime(cpu, proc_is_later ? kernel_prev : reported);
}

char state_letter(std::uint32_t state, std::int32_t exit_state) {
  std::uint32_t report = (state | static_cast<std::uint32_t>(exit_state)) & kTaskReport;
  if ((state & kTaskIdle) == kTaskIdle) report = kTaskReportIdle;
  if (state & (kTaskRtlockWait | kTaskFrozen)) report = kTaskUninterruptible;
  const int index = std::bit_width(report);  // fls(): 0 for running
  return index < static_cast<int>(sizeof(kStateLetters) - 1) ? kStateLetters[index] : '?';
}

void stat_comm(const procmond_process_record& r, Comm& out) {
  const std::size_t comm_len = strnlen(r.comm, sizeof(r.comm));
  char buf[64];  // /proc's tcomm[64]: 63 bytes and a NUL
  std::size_t n = std::min(comm_len, sizeof(buf) - 1);
  std::memcpy(buf, r.comm, n);
  const std::size_t desc_len = strnlen(r.wq_desc, sizeof(r.wq_desc));
  if (r.wq_mark != 0 && desc_len > 0 && n < sizeof(buf) - 1) {
    buf[n++] = static_cast<char>(r.wq_mark);
    const std::size_t more = std::min(desc_len, sizeof(buf) - 1 - n);
    std::memcpy(buf + n, r.wq_desc, more);
    n += more;
  }
  out.assign({buf, n});
}

void TaskRecordDecoder::add_process(const procmond_process_record& r,
                                    std::vector<ProcessRecord>& out) {
  ProcessRecord& p = out.emplace_back();
  StatFields& f = p.stat;
  f.pid = r.leader.tgid;
  stat_comm(r, f.comm);
  f.state = state_letter(r.state, r.exit_state);
  f.ppid = r.ppid;
  f.pgrp = r.pgrp;
  f.session = r.session;
  f.flags = r.flags;
  f.cutime = ticks(r.cutime_ns);
  f.cstime = ticks(r.cstime_ns);
  f.threads = static_cast<std::uint32_t>(r.nr_threads);
  f.start_time = ticks(r.start_boottime_ns);
  cpu_.push_back({.cpu = {.runtime_ns = r.leader.runtime_ns + r.exited_runtime_ns,
                          .utime_ns = r.leader.utime_ns + r.exited_utime_ns,
                          .stime_ns = r.leader.stime_ns + r.exited_stime_ns},
                  .kernel_prev = {r.prev_utime_ns, r.prev_stime_ns}});
  // /proc shows no memory for a kernel thread, not even the mm one borrows
  // for a while (kthread_use_mm): get_task_mm() gives a kernel thread none.
  if (f.kernel_thread()) return;
  f.vsize_bytes = r.total_vm_pages * units_.page_size;
  // stat's RSS: each counter's folded count, a negative one read as 0
  // (percpu_counter_read_positive), as get_mm_rss() sums them.
  std::uint64_t pages = 0;
  for (std::int64_t c : r.rss_pages) pages += c > 0 ? static_cast<std::uint64_t>(c) : 0;
  f.rss_pages = pages;
  p.rss_bytes = pages * units_.page_size;
  f.start_code = r.start_code;
  f.end_code = r.end_code;
  f.start_stack = r.start_stack;
  f.arg_start = r.arg_start;
  f.arg_end = r.arg_end;
  f.env_start = r.env_start;
  f.env_end = r.env_end;
}

void TaskRecordDecoder::begin(std::vector<ProcessRecord>& out) {
  out.clear();
  cpu_.clear();
  threads_.clear();
}

std::optional<std::size_t> TaskRecordDecoder::take(std::span<const char> bytes,
                                                   std::vector<ProcessRecord>& out) {
  std::size_t off = 0;
  for (;;) {
    procmond_thread_record head;
    if (bytes.size() - off < sizeof(head)) return off;  // the rest comes with the next read
    std::memcpy(&head, bytes.data() + off, sizeof(head));
    if (head.kind == PROCMOND_RECORD_THREAD) {
      threads_.push_back(head);
      off += sizeof(head);
    } else if (head.kind == PROCMOND_RECORD_PROCESS) {
      procmond_process_record r;
      if (bytes.size() - off < sizeof(r)) return off;
      std::memcpy(&r, bytes.data() + off, sizeof(r));
      add_process(r, out);
      off += sizeof(r);
    } else {
      return std::nullopt;
    }
  }
}

void TaskRecordDecoder::finish(std::vector<ProcessRecord>& out) {
  // The walk goes by ascending pid, so `out` is sorted by pid (sorted here if
  // a kernel ever walks otherwise): each thread finds its process by binary
  // search. A thread whose leader was not seen (the walk passed the leader
  // just before it was reaped) is dropped.
  sort_by_pid(out);
  for (const auto& t : threads_) {
    auto it = std::lower_bound(out.begin(), out.end(), t.tgid,
                               [](const ProcessRecord& p, pid_t pid) { return p.stat.pid < pid; });
    if (it == out.end() || it->stat.pid != t.tgid) continue;
    GroupCpu& cpu = cpu_[static_cast<std::size_t>(it - out.begin())].cpu;
    cpu.runtime_ns += t.runtime_ns;
    cpu.utime_ns += t.utime_ns;
    cpu.stime_ns += t.stime_ns;
  }
}

// Sorts `out` and cpu_ alike; a copy of both, but only on a kernel that
// walks out of pid order, which none has yet.
void TaskRecordDecoder::sort_by_pid(std::vector<ProcessRecord>& out) {
  auto by_pid = [](const ProcessRecord& a, const ProcessRecord& b) {
    return a.stat.pid < b.stat.pid;
  };
  if (std::is_sorted(out.begin(), out.end(), by_pid)) return;
  std::vector<std::size_t> order(out.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return by_pid(out[a], out[b]); });
  std::vector<ProcessRecord> processes;
  std::vector<TaskCpu> cpu;
  processes.reserve(out.size());
  cpu.reserve(out.size());
  for (std::size_t i : order) {
    processes.push_back(out[i]);
    cpu.push_back(cpu_[i]);
  }
  out = std::move(processes);
  cpu_ = std::move(cpu);
}

bool TaskRecordDecoder::decode(std::span<const char> bytes, std::vector<ProcessRecord>& out) {
  begin(out);
  auto taken = take(bytes, out);
  if (!taken || *taken != bytes.size()) return false;
  finish(out);
  return true;
}

}  // namespace procmond::bpf
