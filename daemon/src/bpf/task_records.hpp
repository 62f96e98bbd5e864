#pragma once
// Turns the task iterator's raw records (task_record.h) into what
// /proc/PID/stat would say of each process: the thread group's CPU time
// (every live thread's plus the exited ones'), the state letter, and a kernel
// thread's name as /proc spells it. Pure: no kernel needed, tested on
// crafted records (tests/task_records_test.cpp).

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "process_record.hpp"
#include "task_record.h"

namespace procmond::bpf {

// The thread group's CPU time in nanoseconds, before /proc's adjustment.
struct GroupCpu {
  std::uint64_t runtime_ns = 0;  // the scheduler's exact total
  std::uint64_t utime_ns = 0;    // tick samples, user
  std::uint64_t stime_ns = 0;    // tick samples, system
};

// A user/system split of CPU time, in nanoseconds.
struct CpuSplit {
  std::uint64_t utime_ns = 0;
  std::uint64_t stime_ns = 0;
  std::uint64_t total() const { return utime_ns + stime_ns; }
};

// What a process's CPU split is worked out from (next_split()).
struct TaskCpu {
  GroupCpu cpu;
  CpuSplit kernel_prev;  // the split /proc last reported (signal->prev_cputime)
};

// The kernel's cputime_adjust (kernel/sched/cputime.c): scales the sampled
// user/system split to the exact runtime, never letting either side go below
// `prev`, the split reported before. What /proc/PID/stat prints, in ns.
CpuSplit adjust_cputime(const GroupCpu& cpu, const CpuSplit& prev);

// The split to report after `reported`, the one we reported last: the
// kernel's cputime_adjust from a floor that keeps both sides from going down.
// `kernel_prev`, the split /proc last reported, is the floor where it is at or
// above ours on both sides (then it is the later one, and we report what /proc
// would); /proc works its split out from its own floor, not knowing ours, so a
// /proc read between two of ours may store one with more in all but less on
// one side, and from that floor the side would go down.
CpuSplit next_split(const GroupCpu& cpu, const CpuSplit& reported, const CpuSplit& kernel_prev);

// The letter /proc prints for a task's state (task_state_index in
// include/linux/sched.h): R S D T t X Z P I.
char state_letter(std::uint32_t state, std::int32_t exit_state);

// /proc's comm: the record's comm (a kernel thread's full name already),
// and for a workqueue worker "+desc" or "-desc" after it, 63 bytes at most.
void stat_comm(const procmond_process_record& record, Comm& out);

struct Units {
  std::uint64_t ns_per_tick = 10'000'000;  // 1e9 / USER_HZ
  std::uint64_t page_size = 4096;
};

class TaskRecordDecoder {
 public:
  explicit TaskRecordDecoder(Units units) : units_(units) {}

  // One walk, as the kernel hands it out: begin(), take() on each read's
  // bytes, finish(). take() decodes every whole record at the front of
  // `bytes` into `out` and returns how many bytes it used (a record cut by
  // the end of a read is the caller's to keep for the next), or nullopt on
  // bytes that are no record. finish() adds each live thread's time to its
  // process's. `out` holds the processes in the records' order (ascending
  // pid), each as a snapshot holds it but for utime and stime (the caller's,
  // from next_split() and cpu()) and its identity: decoded in place, with no
  // copy of every process beside the snapshot.
  void begin(std::vector<ProcessRecord>& out);
  std::optional<std::size_t> take(std::span<const char> bytes, std::vector<ProcessRecord>& out);
  void finish(std::vector<ProcessRecord>& out);

  // All three over one whole walk's bytes; false when they are not a
  // sequence of whole records (out is then unspecified).
  bool decode(std::span<const char> bytes, std::vector<ProcessRecord>& out);

  // After finish(): out[i]'s CPU at cpu()[i].
  std::span<const TaskCpu> cpu() const { return cpu_; }

  std::uint64_t ticks(std::uint64_t ns) const { return ns / units_.ns_per_tick; }

 private:
  void add_process(const procmond_process_record& r, std::vector<ProcessRecord>& out);
  void sort_by_pid(std::vector<ProcessRecord>& out);

  Units units_;
  std::vector<TaskCpu> cpu_;                     // beside out, reused: no allocation once warm
  std::vector<procmond_thread_record> threads_;  // reused too
};

}  // namespace procmond::bpf
