/* The BPF collector's one program: a task iterator that writes one record
 * per live task (task_record.h) into the seq_file user space reads. The
 * kernel walks every task under RCU; this program only copies fields. */
#include <linux/types.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "kernel_types.h"
#include "task_record.h"

/* bpf_probe_read_kernel and bpf_seq_write are for GPL-compatible programs. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PF_KTHREAD 0x00200000
#define PF_WQ_WORKER 0x00000020
/* enum pid_type, unchanged since 4.19 */
#define PIDTYPE_PGID 2
#define PIDTYPE_SID 3
/* enum NR_MM_COUNTERS order: MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES */
#define MM_FILEPAGES 0
#define MM_ANONPAGES 1
#define MM_SHMEMPAGES 3

static __always_inline void read_times(struct task_struct* t, struct procmond_thread_record* r) {
  r->utime_ns = t->utime;
  r->stime_ns = t->stime;
  r->runtime_ns = t->se.sum_exec_runtime;
}

/* What /proc/PID/stat prints as the comm of a kernel thread: its full name
 * (which may pass 16 bytes), and for a workqueue worker the description of
 * its latest work, marked '+' while it runs it and '-' after. */
static __always_inline void read_kthread_name(struct task_struct* task,
                                              struct procmond_process_record* r) {
  struct kthread* kthread = (struct kthread*)BPF_CORE_READ(task, worker_private);
  if (!kthread) return;
  char* full_name = BPF_CORE_READ(kthread, full_name);
  if (full_name) bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), full_name);
  if (!(task->flags & PF_WQ_WORKER)) return;
  struct worker* worker = (struct worker*)BPF_CORE_READ(kthread, data);
  if (!worker || !BPF_CORE_READ(worker, pool)) return;
  bpf_probe_read_kernel_str(r->wq_desc, sizeof(r->wq_desc), &worker->desc);
  r->wq_mark = BPF_CORE_READ(worker, current_work) ? '+' : '-';
}

SEC("iter/task")
int dump_task(struct bpf_iter__task* ctx) {
  struct seq_file* seq = ctx->meta->seq;
  struct task_struct* task = ctx->task;
  if (!task) return 0;

  if (task->pid != task->tgid) {
    /* A thread already unhashed has had its time added to the signal's
     * exited sums (in the same critical section): counting it would count
     * it twice. */
    if (!task->thread_pid) return 0;
    struct procmond_thread_record t = {.kind = PROCMOND_RECORD_THREAD, .tgid = task->tgid};
    read_times(task, &t);
    bpf_seq_write(seq, &t, sizeof(t));
    return 0;
  }

  struct procmond_process_record r = {};
  r.leader.kind = PROCMOND_RECORD_PROCESS;
  r.leader.tgid = task->tgid;
  read_times(task, &r.leader);
  r.ppid = task->real_parent->tgid;
  r.flags = task->flags;
  r.state = task->__state;
  r.exit_state = task->exit_state;
  r.start_boottime_ns = task->start_boottime;

  struct signal_struct* sig = task->signal;
  r.nr_threads = sig->nr_threads;
  r.exited_utime_ns = sig->utime;
  r.exited_stime_ns = sig->stime;
  r.exited_runtime_ns = sig->sum_sched_runtime;
  r.cutime_ns = sig->cutime;
  r.cstime_ns = sig->cstime;
  r.prev_utime_ns = sig->prev_cputime.utime;
  r.prev_stime_ns = sig->prev_cputime.stime;
  r.pgrp = sig->pids[PIDTYPE_PGID]->numbers[0].nr;
  r.session = sig->pids[PIDTYPE_SID]->numbers[0].nr;

  struct mm_struct* mm = task->mm;
  if (mm) {
    r.total_vm_pages = mm->total_vm;
    r.rss_pages[0] = mm->rss_stat[MM_FILEPAGES].count;
    r.rss_pages[1] = mm->rss_stat[MM_ANONPAGES].count;
    r.rss_pages[2] = mm->rss_stat[MM_SHMEMPAGES].count;
    r.start_code = mm->start_code;
    r.end_code = mm->end_code;
    r.start_stack = mm->start_stack;
    r.arg_start = mm->arg_start;
    r.arg_end = mm->arg_end;
    r.env_start = mm->env_start;
    r.env_end = mm->env_end;
  }

  __builtin_memcpy(r.comm, task->comm, sizeof(task->comm));
  if (r.flags & PF_KTHREAD) read_kthread_name(task, &r);

  bpf_seq_write(seq, &r, sizeof(r));
  return 0;
}
