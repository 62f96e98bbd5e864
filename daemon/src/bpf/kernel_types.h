/* The few kernel types the task iterator reads, and only the fields it reads.
 * preserve_access_index makes every access a CO-RE relocation: libbpf finds
 * each field by name in the running kernel's BTF and patches its offset, so
 * one object runs on any kernel with BTF, and the build needs no vmlinux.h
 * (nor a kernel with BTF on the build machine). A field the running kernel
 * lacks fails the load, and `--collector auto` falls back to /proc. */
#pragma once

#include <linux/types.h>

#define PROCMOND_CORE __attribute__((preserve_access_index))

struct seq_file;

struct bpf_iter_meta {
  struct seq_file* seq;
} PROCMOND_CORE;

struct sched_entity {
  __u64 sum_exec_runtime;
} PROCMOND_CORE;

struct upid {
  int nr;
} PROCMOND_CORE;

struct pid {
  struct upid numbers[1];
} PROCMOND_CORE;

struct prev_cputime {
  __u64 utime;
  __u64 stime;
} PROCMOND_CORE;

/* Since 6.2 the RSS counters are percpu_counters: `count` is the sum folded
 * so far; each CPU holds up to a batch more that only a cross-CPU sum sees. */
struct percpu_counter {
  __s64 count;
} PROCMOND_CORE;

struct signal_struct {
  int nr_threads;
  struct pid* pids[4];
  __u64 utime; /* threads that have exited */
  __u64 stime;
  __u64 cutime; /* reaped children */
  __u64 cstime;
  struct prev_cputime prev_cputime;
  unsigned long long sum_sched_runtime; /* exited threads' runtime */
} PROCMOND_CORE;

struct mm_struct {
  unsigned long total_vm;
  unsigned long start_code;
  unsigned long end_code;
  unsigned long start_stack;
  unsigned long arg_start;
  unsigned long arg_end;
  unsigned long env_start;
  unsigned long env_end;
  struct percpu_counter rss_stat[4];
} PROCMOND_CORE;

struct task_struct {
  unsigned int __state;
  unsigned int flags;
  struct sched_entity se;
  struct mm_struct* mm;
  int exit_state;
  int pid;
  int tgid;
  struct task_struct* real_parent;
  struct pid* thread_pid;
  void* worker_private; /* a kernel thread's struct kthread */
  __u64 utime;
  __u64 stime;
  __u64 start_boottime;
  char comm[16];
  struct signal_struct* signal;
} PROCMOND_CORE;

struct kthread {
  void* data; /* a workqueue worker's struct worker */
  char* full_name;
} PROCMOND_CORE;

struct worker {
  void* current_work;
  void* pool;
  char desc[32];
} PROCMOND_CORE;

struct bpf_iter__task {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
} PROCMOND_CORE;
