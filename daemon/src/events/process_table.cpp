#include "events/process_table.hpp"

#include "exec_signature.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace procmond {
namespace {

// An identity for a record without one (a crafted snapshot).
const ProcessIdentity kNoIdentity{};

const ProcessIdentity& identity_of(const ProcessRecord& r) {
  return r.identity ? *r.identity : kNoIdentity;
}

// Exited but not reaped. A thread group leader that exited while its other
// threads run also shows Z, with their count: that process lives on.
bool gone(const StatFields& stat) {
  return stat.state == 'X' || (stat.state == 'Z' && stat.threads <= 1);
}

}  // namespace

void ProcessTable::Entry::set_counters(const StatFields& stat, std::uint64_t rss) {
  threads = stat.threads;
  utime = stat.utime;
  stime = stat.stime;
  rss_bytes = rss;
}

void ProcessTable::Entry::set_identity(const Comm& new_comm, const ProcessIdentity& id) {
  comm = new_comm;
  exe = id.exe;
  cmdline = id.cmdline;
  cmdline_truncated = id.cmdline_truncated;
  uid = id.uid;
  exec_signature = id.exec_signature;
  generation = id.generation;
}

void ProcessTable::Entry::clear_identity() {
  comm = Comm{};
  exe.clear();
  cmdline.clear();
  cmdline_truncated = false;
  exec_signature = 0;
  generation = 0;
}

bool ProcessTable::Entry::exec_differs(const Comm& new_comm, const ProcessIdentity& id) const {
  if (id.exec_signature != exec_signature || !(new_comm == comm)) return true;
  // The strings can only have changed when the collector read them again.
  return id.generation != generation &&
         (id.exe != exe || id.cmdline != cmdline || id.cmdline_truncated != cmdline_truncated);
}

Event& ProcessTable::emit(std::vector<Event>& out, EventKind kind, EventSource source,
                          std::int64_t now_ns, pid_t pid, const Entry& e) {
  Event& ev = out.emplace_back();
  ev.time_ns = now_ns;
  ev.kind = kind;
  ev.source = source;
  ev.pid = pid;
  ev.ppid = e.ppid;
  ev.uid = e.uid;
  ev.start_time = e.start_time;
  ev.threads = e.threads;
  ev.utime = e.utime;
  ev.stime = e.stime;
  ev.rss_bytes = e.rss_bytes;
  ev.comm.assign(e.comm.view());
  ev.exe = e.exe;
  ev.cmdline = e.cmdline;
  ev.cmdline_truncated = e.cmdline_truncated;
  return ev;
}

// The entry leaves the table: its strings move into the event.
void ProcessTable::emit_exited(std::vector<Event>& out, EventSource source, std::int64_t now_ns,
                               Table::iterator it, std::int32_t exit_status) {
  Entry& e = it->second;
  Event& ev = out.emplace_back();
  ev.time_ns = now_ns;
  ev.kind = EventKind::kExited;
  ev.source = source;
  ev.pid = it->first;
  ev.ppid = e.ppid;
  ev.uid = e.uid;
  ev.start_time = e.start_time;
  ev.exit_status = exit_status;
  ev.threads = e.threads;
  ev.utime = e.utime;
  ev.stime = e.stime;
  ev.rss_bytes = e.rss_bytes;
  ev.comm.assign(e.comm.view());
  ev.exe = std::move(e.exe);
  ev.cmdline = std::move(e.cmdline);
  ev.cmdline_truncated = e.cmdline_truncated;
  table_.erase(it);
}

void ProcessTable::add_tombstone(const Tombstone& t) {
  if (tombstones_.size() >= kMaxTombstones)  // appended in time order: the front is oldest
    tombstones_.erase(tombstones_.begin(), tombstones_.begin() + kMaxTombstones / 2);
  tombstones_.push_back(t);
}

bool ProcessTable::connector_tombstone(pid_t pid, std::uint64_t start_time,
                                       std::uint64_t t0) const {
  return std::any_of(tombstones_.begin(), tombstones_.end(), [&](const Tombstone& t) {
    return !t.from_poll && t.pid == pid && t.mono_ns >= t0 &&
           (t.start_time == start_time || t.start_time == 0);
  });
}

bool ProcessTable::poll_tombstone(pid_t pid) const {
  return std::any_of(tombstones_.begin(), tombstones_.end(),
                     [&](const Tombstone& t) { return t.from_poll && t.pid == pid; });
}

void ProcessTable::baseline(const Snapshot& snapshot, std::int64_t now_ns,
                            std::vector<Event>& out) {
  table_.clear();
  tombstones_.clear();
  ++cycle_;
  table_.reserve(snapshot.processes.size());
  for (const ProcessRecord& r : snapshot.processes) {
    if (gone(r.stat)) continue;
    Entry& e = table_[r.stat.pid];
    e.start_time = r.stat.start_time;
    e.ppid = r.stat.ppid;
    e.seen_cycle = cycle_;
    e.set_counters(r.stat, r.rss_bytes);
    e.set_identity(r.stat.comm, identity_of(r));
  }
  Event& ev = out.emplace_back();
  ev.time_ns = now_ns;
  ev.kind = EventKind::kSnapshot;
  ev.source = EventSource::kPoll;
  ev.pid = 0;
  ev.processes = static_cast<std::uint32_t>(table_.size());
}

void ProcessTable::apply_snapshot(const Snapshot& snapshot, std::uint64_t t0, std::int64_t now_ns,
                                  std::vector<Event>& out) {
  const std::uint64_t cycle = ++cycle_;
  std::erase_if(tombstones_, [t0](const Tombstone& t) { return t.mono_ns < t0; });
  std::size_t marked = 0;

  for (const ProcessRecord& r : snapshot.processes) {
    const pid_t pid = r.stat.pid;
    const ProcessIdentity& id = identity_of(r);
    auto it = table_.find(pid);

    if (gone(r.stat)) {
      // A known process turned zombie has exited; the rest is the sweep's.
      if (it != table_.end() && it->second.start_time == r.stat.start_time) {
        add_tombstone(
            {.pid = pid, .from_poll = true, .start_time = r.stat.start_time, .mono_ns = t0});
        emit_exited(out, EventSource::kPoll, now_ns, it, -1);
      }
      continue;
    }

    if (it != table_.end() && it->second.start_time != r.stat.start_time) {
      Entry& old = it->second;
      if (old.connector_created && old.created_mono >= t0) {
        // Rule 2: the connector's entry is newer than what the snapshot saw.
        if (old.seen_cycle != cycle) ++marked;
        old.seen_cycle = cycle;
        continue;
      }
      // A reused pid: the old process exited, a new one started.
      add_tombstone({.pid = pid, .from_poll = true, .start_time = old.start_time, .mono_ns = t0});
      emit_exited(out, EventSource::kPoll, now_ns, it, -1);
      it = table_.end();
    }

    if (it == table_.end()) {
      if (connector_tombstone(pid, r.stat.start_time, t0)) continue;  // rule 1
      Entry& e = table_[pid];
      e.start_time = r.stat.start_time;
      e.ppid = r.stat.ppid;
      e.created_mono = t0;
      e.seen_cycle = cycle;
      ++marked;
      e.set_counters(r.stat, r.rss_bytes);
      e.set_identity(r.stat.comm, id);
      emit(out, EventKind::kStarted, EventSource::kPoll, now_ns, pid, e);
      continue;
    }

    Entry& e = it->second;
    if (e.seen_cycle != cycle) ++marked;
    e.seen_cycle = cycle;
    std::uint8_t changes = 0;
    const bool identity_newer = e.connector_identity && e.identity_mono >= t0;  // rule 3
    if (!identity_newer && (e.generation != id.generation || !(e.comm == r.stat.comm) ||
                            e.exec_signature != id.exec_signature)) {
      // A kernel thread never execs: a kworker's comm names the work it
      // picked up, and changes many times a second.
      if (!r.stat.kernel_thread() && e.exec_differs(r.stat.comm, id)) changes |= kChangeExec;
      e.set_identity(r.stat.comm, id);  // a mere re-read (same strings) adopts its generation
      e.connector_identity = false;
    }
    if (e.ppid != r.stat.ppid) {
      e.ppid = r.stat.ppid;
      changes |= kChangeReparent;
    }
    e.set_counters(r.stat, r.rss_bytes);
    if (changes)
      emit(out, EventKind::kChanged, EventSource::kPoll, now_ns, pid, e).changes = changes;
  }

  // Sweep: an entry no record marked is gone, unless the connector made it
  // after the snapshot began (rule 2). When every entry was marked, skip it.
  if (marked == table_.size()) return;
  for (auto it = table_.begin(); it != table_.end();) {
    const Entry& e = it->second;
    if (e.seen_cycle == cycle || (e.connector_created && e.created_mono >= t0)) {
      ++it;
      continue;
    }
    auto next = std::next(it);
    add_tombstone({.pid = it->first, .from_poll = true, .start_time = e.start_time, .mono_ns = t0});
    emit_exited(out, EventSource::kPoll, now_ns, it, -1);
    it = next;
  }
}

void ProcessTable::on_fork(pid_t pid, pid_t ppid, std::uint64_t mono_ns, std::int64_t now_ns,
                           std::vector<Event>& out) {
  // A child that still runs its parent's program (same exec signature and
  // comm) has the parent's cmdline, exe and uid: stat alone is read, a
  // quarter of the files. (A pointer into the table survives a rehash.)
  bool read = reader_.read_stat(pid, sample_);
  const auto parent_it = table_.find(ppid);
  const Entry* parent = parent_it == table_.end() ? nullptr : &parent_it->second;
  const bool like_parent = read && parent && parent->exec_signature != 0 &&
                           parent->exec_signature == exec_signature(sample_.stat) &&
                           parent->comm == sample_.stat.comm;
  if (read && !like_parent) read = reader_.read(pid, sample_);
  auto it = table_.find(pid);
  if (it != table_.end()) {
    // Known already (a snapshot newer than this message saw it), or gone
    // before we could tell: nothing new to say.
    if (!read || it->second.start_time == sample_.stat.start_time) return;
    // The table's process with this pid is gone: its exit was missed.
    add_tombstone({.pid = pid, .start_time = it->second.start_time, .mono_ns = mono_ns});
    emit_exited(out, EventSource::kConnector, now_ns, it, -1);
  }
  Entry& e = table_[pid];
  e = Entry{};
  e.ppid = ppid;  // the message's: the child may have been reparented since
  e.created_mono = e.identity_mono = mono_ns;
  e.connector_created = e.connector_identity = true;
  if (read) {
    e.start_time = sample_.stat.start_time;
    e.set_counters(sample_.stat, sample_.rss_bytes);
    if (like_parent) {
      e.comm = parent->comm;
      e.exe = parent->exe;
      e.cmdline = parent->cmdline;
      e.cmdline_truncated = parent->cmdline_truncated;
      e.uid = parent->uid;
      e.exec_signature = parent->exec_signature;
    } else {
      e.set_identity(sample_.stat.comm, sample_.identity);
    }
    e.generation = 0;  // not the collector's: compared on the next snapshot
  }
  emit(out, EventKind::kStarted, EventSource::kConnector, now_ns, pid, e);
}

void ProcessTable::on_exec(pid_t pid, std::uint64_t mono_ns, std::int64_t now_ns,
                           std::vector<Event>& out) {
  const bool read = reader_.read(pid, sample_);
  auto it = table_.find(pid);
  if (it == table_.end() ||
      (read && it->second.start_time != 0 && it->second.start_time != sample_.stat.start_time)) {
    // Never seen (a fork missed), or the table's process with this pid is
    // gone: this one is news, reported as started.
    if (it != table_.end()) {
      add_tombstone({.pid = pid, .start_time = it->second.start_time, .mono_ns = mono_ns});
      emit_exited(out, EventSource::kConnector, now_ns, it, -1);
    }
    on_fork(pid, read ? sample_.stat.ppid : 0, mono_ns, now_ns, out);
    return;
  }
  Entry& e = it->second;
  if (read) {
    e.start_time = sample_.stat.start_time;
    e.ppid = sample_.stat.ppid;
    e.set_counters(sample_.stat, sample_.rss_bytes);
    e.set_identity(sample_.stat.comm, sample_.identity);
  } else {
    e.clear_identity();  // the old program's no longer runs; the new one's is unknown
  }
  e.generation = 0;
  e.identity_mono = mono_ns;
  e.connector_identity = true;
  emit(out, EventKind::kChanged, EventSource::kConnector, now_ns, pid, e).changes = kChangeExec;
}

void ProcessTable::on_exit(pid_t pid, std::int32_t exit_status, std::uint64_t mono_ns,
                           std::int64_t now_ns, std::vector<Event>& out) {
  auto it = table_.find(pid);
  if (it != table_.end() && it->second.created_mono <= mono_ns) {
    add_tombstone({.pid = pid, .start_time = it->second.start_time, .mono_ns = mono_ns});
    emit_exited(out, EventSource::kConnector, now_ns, it, exit_status);
    return;
  }
  // Rule 4: not the table's process with this pid (if any); rule 5: the poll
  // already reported it; rule 6: else say what is known.
  if (poll_tombstone(pid)) return;
  add_tombstone({.pid = pid, .start_time = 0, .mono_ns = mono_ns});
  Event& ev = out.emplace_back();
  ev.time_ns = now_ns;
  ev.kind = EventKind::kExited;
  ev.source = EventSource::kConnector;
  ev.pid = pid;
  ev.exit_status = exit_status;
}

}  // namespace procmond
