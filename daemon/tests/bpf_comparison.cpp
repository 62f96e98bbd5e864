#include "bpf_comparison.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>

#include "bpf_population.hpp"

namespace procmond::testing {

using std::chrono::milliseconds;

// ---- Three reads: BPF, /proc, BPF -----------------------------------------------

View copy_of(const Snapshot& snapshot) {
  View view;
  for (const ProcessRecord& p : snapshot.processes)
    view.emplace(p.stat.pid,
                 Seen{p.stat, p.rss_bytes, p.identity ? *p.identity : ProcessIdentity{}});
  return view;
}

Sandwich take_sandwich(Collector& bpf, Collector& proc) {
  Sandwich s;
  s.before = copy_of(bpf.collect());
  s.proc = copy_of(proc.collect());
  // A task's runtime takes in its current slice at a tick or a switch, but
  // /proc takes it in at once for the task reading it: this sleep is a switch,
  // so the second BPF read has all of our own slice that /proc had.
  std::this_thread::sleep_for(milliseconds(1));
  s.after = copy_of(bpf.collect());
  return s;
}

const Seen* find(const View& view, pid_t pid) {
  auto it = view.find(pid);
  return it == view.end() ? nullptr : &it->second;
}

// ---- Fields and how they must agree -------------------------------------------

namespace {

// A number of stat's, of any width, as a Value.
template <auto kMember>
Value stat_number(const Seen& s) {
  return static_cast<std::int64_t>(s.stat.*kMember);
}

// A workqueue worker's name carries "+desc" or "-desc": the description of its
// latest work, which changes as it runs. Only what comes before is compared
// (of a rescuer, "kworker/R-<queue>", that is "kworker/R").
std::string comm_key(const StatFields& f) {
  std::string comm(f.comm.view());
  constexpr std::string_view kWorker = "kworker/";
  if (f.kernel_thread() && comm.starts_with(kWorker))
    comm.resize(std::min(comm.size(), comm.find_first_of("+-", kWorker.size())));
  return comm;
}

const Field kFields[] = {
    {"start_time", Rule::kSame, stat_number<&StatFields::start_time>},
    {"ppid", Rule::kSame, stat_number<&StatFields::ppid>},
    {"pgrp", Rule::kSame, stat_number<&StatFields::pgrp>},
    {"session", Rule::kSame, stat_number<&StatFields::session>},
    {"state", Rule::kSame, [](const Seen& s) { return Value(std::string(1, s.stat.state)); }},
    {"comm", Rule::kSame, [](const Seen& s) { return Value(comm_key(s.stat)); }},
    {"flags", Rule::kSame, stat_number<&StatFields::flags>},
    {"threads", Rule::kSame, stat_number<&StatFields::threads>},
    {"utime", Rule::kGrows, stat_number<&StatFields::utime>},
    {"stime", Rule::kGrows, stat_number<&StatFields::stime>},
    {"cutime", Rule::kGrows, stat_number<&StatFields::cutime>},
    {"cstime", Rule::kGrows, stat_number<&StatFields::cstime>},
    {"vsize", Rule::kSize, stat_number<&StatFields::vsize_bytes>},
    {"rss", Rule::kRss,
     [](const Seen& s) { return Value(static_cast<std::int64_t>(s.rss_bytes)); }},
    {"uid", Rule::kSame, [](const Seen& s) { return Value(std::int64_t{s.identity.uid}); }},
    {"cmdline", Rule::kSame, [](const Seen& s) { return Value(joined(s.identity.cmdline)); }},
    {"cmdline_truncated", Rule::kSame,
     [](const Seen& s) { return Value(std::int64_t{s.identity.cmdline_truncated}); }},
    {"exe", Rule::kSame, [](const Seen& s) { return Value(s.identity.exe); }},
    {"start_code", Rule::kSame, stat_number<&StatFields::start_code>},
    {"end_code", Rule::kSame, stat_number<&StatFields::end_code>},
    {"start_stack", Rule::kSame, stat_number<&StatFields::start_stack>},
    {"arg_start", Rule::kSame, stat_number<&StatFields::arg_start>},
    {"arg_end", Rule::kSame, stat_number<&StatFields::arg_end>},
    {"env_start", Rule::kSame, stat_number<&StatFields::env_start>},
    {"env_end", Rule::kSame, stat_number<&StatFields::env_end>},
};

bool agrees(const Field& field, const Value& before, const Value& proc, const Value& after,
            bool settled) {
  if (settled) {
    if (field.rule == Rule::kRss) return proc == before || proc == after;
    return proc == before && proc == after;
  }
  switch (field.rule) {
    case Rule::kSame:
      return proc == before || proc == after;
    case Rule::kGrows:
      return before <= proc && proc <= after;
    case Rule::kSize:
    case Rule::kRss:
      return std::min(before, after) <= proc && proc <= std::max(before, after);
  }
  return false;
}

std::string printable(const Value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  std::string out = "\"";
  for (char c : std::get<std::string>(v)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  if (out.size() > 120) out = out.substr(0, 120) + "...";
  return out + "\"";
}

}  // namespace

std::vector<std::pair<const Field*, std::string>> disagreements(const Seen& before,
                                                                const Seen& proc, const Seen& after,
                                                                bool settled) {
  std::vector<std::pair<const Field*, std::string>> out;
  for (const Field& f : kFields) {
    const Value b = f.get(before), p = f.get(proc), a = f.get(after);
    if (!agrees(f, b, p, a, settled))
      out.emplace_back(&f,
                       "bpf " + printable(b) + ", proc " + printable(p) + ", bpf " + printable(a));
  }
  return out;
}

// ---- The whole machine --------------------------------------------------------

namespace {

const char* const kGroupNames[kGroups] = {"ours (settled)", "this test", "kernel threads",
                                          "other processes"};

std::string who(pid_t pid, const Seen& s) {
  return std::to_string(pid) + " " + printable(std::string(s.stat.comm.view()));
}

// Whether /proc still has this process (a pid reused since is another one).
bool still_alive(pid_t pid, std::uint64_t start_time) {
  const auto now = read_stat(proc_dir(pid) / "stat");
  return now && now->start_time == start_time;
}

// pid 1 here is the sandbox's init: the platform hides it (and its threads)
// from BPF task iterators, and no one may read its exe.
constexpr pid_t kHiddenFromBpf = 1;

// What one collector saw and the other did not. Allowed for a process that
// started or ended inside the three reads (one BPF read lacks it, or /proc no
// longer has it); never for one of `must_see`.
void check_one_sided(pid_t pid, const Seen* before, const Seen* proc, const Seen* after,
                     const std::set<pid_t>& must_see, Report& r) {
  if (proc) {  // no BPF read has this process
    const bool alive = still_alive(pid, proc->stat.start_time);
    r.only_proc.push_back(who(pid, *proc) + (alive ? " (alive)" : " (gone since)"));
    if (alive && pid != kHiddenFromBpf)
      r.failures.push_back("BPF misses " + who(pid, *proc) + ", which /proc still has");
  } else {
    const Seen* seen = before ? before : after;
    r.only_bpf.push_back(who(pid, *seen) + (before && after ? " (both BPF reads)"
                                            : before        ? " (first BPF read)"
                                                            : " (second BPF read)"));
    if (before && after)
      r.failures.push_back("/proc misses " + who(pid, *seen) + ", seen by BPF before and after");
  }
  if (must_see.contains(pid))
    r.failures.push_back("one side misses our own " + std::to_string(pid));
}

// The two BPF reads of the process /proc saw at `pid` (null where a read has
// none, or another process at a pid reused inside the three reads).
struct Reads {
  const Seen *before, *proc, *after;
};

Reads reads_of(const Sandwich& s, pid_t pid, std::optional<std::uint64_t> start_time = {}) {
  Reads r{find(s.before, pid), find(s.proc, pid), find(s.after, pid)};
  if (!start_time && (r.proc || r.before || r.after))
    start_time = (r.proc ? r.proc : r.before ? r.before : r.after)->stat.start_time;
  for (const Seen** seen : {&r.before, &r.proc, &r.after})
    if (*seen && (*seen)->stat.start_time != start_time) *seen = nullptr;
  return r;
}

}  // namespace

Report compare(const Sandwich& s, const std::set<pid_t>& settled, const std::set<pid_t>& must_see) {
  Report r;
  std::set<pid_t> pids;
  for (const View* v : {&s.before, &s.proc, &s.after})
    for (const auto& [pid, seen] : *v) pids.insert(pid);
  for (pid_t pid : pids) {
    const auto [before, proc, after] = reads_of(s, pid);
    if (!proc || (!before && !after)) {
      check_one_sided(pid, before, proc, after, must_see, r);
      continue;
    }
    if (!before || !after) {  // started or ended in between: its fields are on the move
      ++r.in_flux;
      if (must_see.contains(pid))
        r.failures.push_back("a BPF read misses our own " + who(pid, *proc));
      continue;
    }
    const bool ours = settled.contains(pid);
    const Group group = ours                         ? kOurs
                        : pid == ::getpid()          ? kTestProcess
                        : proc->stat.kernel_thread() ? kKernelThreads
                                                     : kOthers;
    ++r.compared[group];
    for (const auto& [field, values] : disagreements(*before, *proc, *after, ours))
      r.disagreements.push_back({pid, proc->stat.start_time, group, field,
                                 std::string(kGroupNames[group]) + ": " + who(pid, *proc) + " " +
                                     field->name + ": " + values});
  }
  return r;
}

void recheck(Collector& bpf, Collector& proc, int sandwiches, Report& r) {
  std::vector<Disagreement> pending;
  std::erase_if(r.disagreements, [&](const Disagreement& d) {
    if (d.group == kOurs) return false;
    pending.push_back(d);
    return true;
  });
  for (int i = 0; i < sandwiches && !pending.empty(); ++i) {
    const Sandwich s = take_sandwich(bpf, proc);
    std::erase_if(pending, [&](const Disagreement& d) {
      const Reads again = reads_of(s, d.pid, d.start_time);
      if (!again.before || !again.proc || !again.after) return ++r.gone_before_recheck, true;
      const Field& f = *d.field;
      if (!agrees(f, f.get(*again.before), f.get(*again.proc), f.get(*again.after), false))
        return false;
      ++r.raced[d.group][f.name];
      return true;
    });
  }
  r.disagreements.insert(r.disagreements.end(), pending.begin(), pending.end());
}

namespace {

void print_counts(const char* title, const FieldCounts (&counts)[kGroups], std::ostream& out) {
  out << title << ":";
  bool any = false;
  for (int g = 0; g < kGroups; ++g)
    for (const auto& [field, n] : counts[g]) {
      out << " " << kGroupNames[g] << "/" << field << "=" << n;
      any = true;
    }
  out << (any ? "\n" : " none\n");
}

}  // namespace

void print(const Report& r, std::ostream& out) {
  out << "compared:";
  for (int g = 0; g < kGroups; ++g) out << " " << r.compared[g] << " " << kGroupNames[g] << ";";
  out << " " << r.in_flux << " started or ended between the reads (not compared)\n";
  FieldCounts differed[kGroups];
  for (const Disagreement& d : r.disagreements) ++differed[d.group][d.field->name];
  print_counts("processes that differed, by field", differed, out);
  print_counts("processes that raced (agreed when read again), by field", r.raced, out);
  if (r.gone_before_recheck > 0)
    out << r.gone_before_recheck << " disagreements of processes that ended before a recheck\n";
  out << "only /proc saw " << r.only_proc.size() << ":";
  for (const auto& p : r.only_proc) out << " [" << p << "]";
  out << "\nonly BPF saw " << r.only_bpf.size() << ":";
  for (const auto& p : r.only_bpf) out << " [" << p << "]";
  out << "\n";
}

}  // namespace procmond::testing
