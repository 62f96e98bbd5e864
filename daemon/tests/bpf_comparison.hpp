#pragma once
// What "the BPF collector agrees with /proc" means, on a whole machine whose
// processes run and change between reads: /proc read between two BPF reads
// (a sandwich), each field with the rule by which /proc's value must agree
// with the two BPF reads, and a report of every process either side missed
// and every field on which they disagreed, raced disagreements read again.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "collector.hpp"

namespace procmond::testing {

// ---- Three reads: BPF, /proc, BPF -----------------------------------------------

// One process as a collector reported it, copied: the snapshot and the
// identities are the collector's, overwritten by its next collect().
struct Seen {
  StatFields stat;
  std::uint64_t rss_bytes = 0;
  ProcessIdentity identity;
};
using View = std::map<pid_t, Seen>;

View copy_of(const Snapshot& snapshot);
const Seen* find(const View& view, pid_t pid);

// The machine's other processes run and change between two reads, so /proc
// is read between two BPF reads: a process that lives through all three must
// have what /proc says in one BPF read or the other.
struct Sandwich {
  View before, proc, after;
};

Sandwich take_sandwich(Collector& bpf, Collector& proc);

// ---- Fields and how they must agree -------------------------------------------

using Value = std::variant<std::int64_t, std::string>;

// How /proc's value must agree with the two BPF reads. A settled process of
// ours has every field equal in all three reads (but rss: kRss); a process
// that runs may change between them.
enum class Rule {
  kSame,   // equal to one BPF read or the other
  kGrows,  // a count that only grows (CPU times): between the first BPF read and the second
  kSize,   // memory, which a running process grows or shrinks: between the two BPF reads
  kRss,    // kSize, but one BPF read or the other even for a settled process: a
           // sleeping process's resident pages may still be reclaimed or faulted in for it
};

struct Field {
  const char* name;
  Rule rule;
  Value (*get)(const Seen&);
};

// The fields on which /proc and the two BPF reads of one process disagree,
// each with its three values.
std::vector<std::pair<const Field*, std::string>> disagreements(const Seen& before,
                                                                const Seen& proc, const Seen& after,
                                                                bool settled);

// ---- The whole machine --------------------------------------------------------

enum Group { kOurs, kTestProcess, kKernelThreads, kOthers, kGroups };

// One field of one process on which the three reads disagree.
struct Disagreement {
  pid_t pid;
  std::uint64_t start_time;
  Group group;
  const Field* field;
  std::string text;  // who, which field, the three values
};

using FieldCounts = std::map<std::string, std::size_t>;  // field -> processes

struct Report {
  std::size_t compared[kGroups] = {};
  std::size_t in_flux = 0;  // started or ended inside the three reads: one BPF read has it
  std::vector<std::string> only_proc, only_bpf;
  std::vector<std::string> failures;        // a process one side misses
  std::vector<Disagreement> disagreements;  // after recheck(): those that stand
  FieldCounts raced[kGroups];               // agreed in a later sandwich
  std::size_t gone_before_recheck = 0;
};

// Every process of the sandwich: `settled` ones must agree exactly; one of
// `must_see` missed by either side is a failure.
Report compare(const Sandwich& s, const std::set<pid_t>& settled, const std::set<pid_t>& must_see);

// A process that runs may change between the reads in a way the sandwich
// cannot bound (memory that grows and shrinks again, a state that flips and
// back). Such a race does not repeat; a real disagreement does. So each
// disagreement of a process not settled is checked again in up to
// `sandwiches` more sandwiches, and stands only if every one shows it.
void recheck(Collector& bpf, Collector& proc, int sandwiches, Report& r);

void print(const Report& r, std::ostream& out);

}  // namespace procmond::testing
