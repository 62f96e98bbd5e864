/* The records the task iterator writes (task_iter.bpf.c) and the BPF
 * collector reads (task_records.cpp): plain C, shared by both sides, raw
 * kernel values (nanoseconds, pages, task-state bits). The /proc formatting
 * (cputime_adjust, the state letter, a kernel thread's long name) is done in
 * user space, where it can be read and tested. */
#pragma once

#include <linux/types.h>

enum procmond_record_kind {
  PROCMOND_RECORD_PROCESS = 1, /* a thread-group leader: the whole process */
  PROCMOND_RECORD_THREAD = 2,  /* any other live thread: its CPU time only */
};

/* The first 32 bytes of every record: a thread's CPU time. */
struct procmond_thread_record {
  __u32 kind;
  __s32 tgid;
  __u64 utime_ns; /* ticks sampled into user and system time */
  __u64 stime_ns;
  __u64 runtime_ns; /* sum_exec_runtime: the scheduler's exact CPU time */
};

struct procmond_process_record {
  struct procmond_thread_record leader; /* the leader thread's own time */
  __s32 ppid;
  __s32 pgrp;
  __s32 session;
  __u32 flags; /* PF_* */
  __u32 state; /* task->__state */
  __s32 exit_state;
  __s32 nr_threads;
  /* No uid: the identity reads it from status once per process, and the
   * cred it lives in is one more cache miss a process every cycle. */
  __u32 pad0;
  /* the thread group's: exited threads, reaped children, the last adjusted time */
  __u64 exited_utime_ns;
  __u64 exited_stime_ns;
  __u64 exited_runtime_ns;
  __u64 cutime_ns;
  __u64 cstime_ns;
  __u64 prev_utime_ns;
  __u64 prev_stime_ns;
  __u64 start_boottime_ns;
  /* the address space: all 0 without one (kernel threads, zombies) */
  __u64 total_vm_pages;
  __s64 rss_pages[3]; /* file, anon, shmem: each counter's folded count */
  __u64 start_code;
  __u64 end_code;
  __u64 start_stack;
  __u64 arg_start;
  __u64 arg_end;
  __u64 env_start;
  __u64 env_end;
  /* task->comm, or a kernel thread's full name; a workqueue worker's
   * description and '+' (working) or '-' (idle), 0 when it has none */
  char comm[64];
  char wq_desc[32];
  __u8 wq_mark;
  __u8 pad[7];
};
