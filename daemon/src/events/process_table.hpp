#pragma once
// The differ: what the daemon believes is alive, keyed by pid (start_time
// tells a reused pid apart), turned into events as collector cycles and the
// kernel's proc connector report changes. Events get seq 0 (the caller numbers
// them) and time_ns = the now_ns argument; each carries the process's latest
// fields (an exited one its last known).
//
// Two sources, one stream. A snapshot is read over a while starting at mono
// time t0 (taken_mono_ns); connector messages (mono_ns: the kernel's event
// time, CLOCK_MONOTONIC) may be newer than a snapshot applied after them. So
// that nothing is reported twice or wrongly:
//  1. An exit seen by the connector leaves a tombstone (pid, start_time,
//     mono). A pid in a snapshot with a connector tombstone at or after t0
//     (same start_time, or any when the exit's start_time was unknown) is not
//     started again: the snapshot saw it before it died. Tombstones older than
//     t0 are dropped at each snapshot, and at most kMaxTombstones are kept.
//  2. An entry created by the connector (fork) at or after t0 and missing
//     from the snapshot is not exited; a snapshot record with another
//     start_time than such an entry is an older process, ignored.
//  3. An identity (comm, exe, cmdline) set by the connector (exec) at or after
//     t0 is not overwritten by the snapshot, nor reported as an exec back.
//  4. An exit whose time is before the table's entry for that pid was first
//     known (a snapshot began after it, or a later fork) is not that entry's:
//     the pid was reused. It is reported with what is known (pid, status)
//     unless a snapshot already reported that pid exited (rule 5).
//  5. A process a snapshot finds gone is exited (source poll) and leaves a
//     poll tombstone until the next snapshot: the connector's late exit for
//     that pid, which the poll beat, is then not reported again.
//  6. An exit for a pid the table never knew (a fork missed) is still
//     reported, with pid and exit status only.
// A zombie (state Z with at most one thread, or X) has exited: a snapshot
// reports a known one exited and never starts an unknown one (with the
// connector, its exit was already reported; polling alone, a process that
// lived and died between two cycles is not seen at all).
//
// Changes: kChangeExec when the exec signature, comm or exe changed (or the
// cmdline, read again by the collector); kChangeReparent when the ppid
// changed; both bits in one event when both. A connector exec is always
// reported (an exec of the same binary with the same argv included).
//
// Cost: an unchanged process costs one hash lookup and a few compares, no
// allocation; strings are copied only when a process starts or execs, and
// moved into its exited event.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "events/event.hpp"
#include "events/process_reader.hpp"
#include "process_record.hpp"

namespace procmond {

class ProcessTable {
 public:
  // `reader` must outlive the table; only on_fork and on_exec use it.
  explicit ProcessTable(ProcessReader& reader) : reader_(reader) {}

  // The first snapshot: fills the table (after clearing it) and emits one
  // kSnapshot event (processes = how many), no started events.
  void baseline(const Snapshot& snapshot, std::int64_t now_ns, std::vector<Event>& out);

  // Diffs a later snapshot, whose reading began at taken_mono_ns, against
  // the table: started, exited, changed (source kPoll).
  void apply_snapshot(const Snapshot& snapshot, std::uint64_t taken_mono_ns, std::int64_t now_ns,
                      std::vector<Event>& out);

  // The proc connector's messages for processes (thread group leaders, not
  // threads), source kConnector. Fork and exec read the process at once
  // through the reader; if it is gone already, what is known is reported.
  // An exec of a pid not in the table is reported as started.
  void on_fork(pid_t pid, pid_t ppid, std::uint64_t mono_ns, std::int64_t now_ns,
               std::vector<Event>& out);
  void on_exec(pid_t pid, std::uint64_t mono_ns, std::int64_t now_ns, std::vector<Event>& out);
  void on_exit(pid_t pid, std::int32_t exit_status, std::uint64_t mono_ns, std::int64_t now_ns,
               std::vector<Event>& out);

  std::size_t size() const { return table_.size(); }
  std::size_t tombstones() const { return tombstones_.size(); }

  // Exits remembered between two snapshots, at most (rule 1): past it, the
  // older half is forgotten (a stale snapshot may then start one again).
  static constexpr std::size_t kMaxTombstones = 65536;

 private:
  struct Entry {
    std::uint64_t start_time = 0;  // 0: unknown (a fork read too late)
    std::uint64_t exec_signature = 0;
    std::uint64_t generation = 0;     // of the collector's identity last compared
    std::uint64_t created_mono = 0;   // first known alive at or after this
    std::uint64_t identity_mono = 0;  // when the connector last set the identity
    std::uint64_t seen_cycle = 0;     // mark of the last snapshot that saw it
    bool connector_created = false;
    bool connector_identity = false;
    bool cmdline_truncated = false;
    pid_t ppid = 0;
    uid_t uid = static_cast<uid_t>(-1);
    std::uint32_t threads = 0;
    std::uint64_t utime = 0;
    std::uint64_t stime = 0;
    std::uint64_t rss_bytes = 0;
    Comm comm;
    std::string exe;
    std::vector<std::string> cmdline;

    void set_counters(const StatFields& stat, std::uint64_t rss);
    // Copies comm, exe, cmdline, uid and signature (strings keep capacity).
    void set_identity(const Comm& new_comm, const ProcessIdentity& id);
    void clear_identity();
    // An exec as a snapshot shows it (see the class comment).
    bool exec_differs(const Comm& new_comm, const ProcessIdentity& id) const;
  };
  struct Tombstone {
    pid_t pid = 0;
    bool from_poll = false;
    std::uint64_t start_time = 0;  // 0: unknown, matches any
    std::uint64_t mono_ns = 0;
  };
  using Table = std::unordered_map<pid_t, Entry>;

  void add_tombstone(const Tombstone& t);
  bool connector_tombstone(pid_t pid, std::uint64_t start_time, std::uint64_t t0) const;
  bool poll_tombstone(pid_t pid) const;

  Event& emit(std::vector<Event>& out, EventKind kind, EventSource source, std::int64_t now_ns,
              pid_t pid, const Entry& entry);
  void emit_exited(std::vector<Event>& out, EventSource source, std::int64_t now_ns,
                   Table::iterator it, std::int32_t exit_status);

  ProcessReader& reader_;
  Table table_;
  std::vector<Tombstone> tombstones_;
  std::uint64_t cycle_ = 0;
  ProcessSample sample_;  // reused by the connector's reads
};

}  // namespace procmond
