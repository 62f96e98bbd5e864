#pragma once
// The CPU a process tree burned, from readings of its members' cumulative
// CPU taken walk after walk.
//
// Each member (keyed by pid and start time, so a reused pid is a new member)
// adds what it grew since the last walk: its own CPU clock, and the CPU of
// the children it reaped (cutime + cstime, cumulative). A member that leaves
// the tree (a double fork, a reparent) takes none of what was counted with
// it: the total never falls, and the next walk counts the tree's new work at
// once. A plain sum of the members, kept as a running maximum, stays flat
// after such a departure until the tree has burned that much again.
//
// A member reaped by a parent in the tree shows up once more in that
// parent's reaped CPU, with everything it had when last seen: that much is
// taken off the parent's growth, so it is not counted twice. A child born and
// reaped between two walks counts once, through its parent. A member missing
// from one walk and back in a later one (a children file read while a sibling
// exited can skip an entry) grows from what it had, not from zero: members
// that left are remembered for a few walks.

#include <sys/types.h>

#include <cstdint>
#include <unordered_map>

namespace perfkit {

class TreeCpu {
 public:
  struct MemberCpu {
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // stat field 22; 0 where unknown (the root alone)
    pid_t ppid = 0;
    std::uint64_t own_ns = 0;     // its CPU clock: every thread, live or gone
    std::uint64_t reaped_ns = 0;  // its reaped children's CPU
  };

  void begin_walk() { current_.clear(); }
  void add(const MemberCpu& m) { current_[key(m.pid, m.start_time)] = m; }
  // Adds this walk's growth to the total and returns the total in ns.
  std::uint64_t end_walk();

 private:
  struct Key {
    pid_t pid;
    std::uint64_t start_time;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>{}(k.start_time * 4'194'319u +
                                        static_cast<std::uint64_t>(k.pid));
    }
  };
  static Key key(pid_t pid, std::uint64_t start) { return {pid, start}; }

  std::unordered_map<Key, MemberCpu, KeyHash> previous_, current_;
  // Members that left, with the walk they left in, kept kRememberWalks walks.
  struct Departed {
    MemberCpu last;
    std::uint64_t walk;
  };
  static constexpr std::uint64_t kRememberWalks = 3;
  std::unordered_map<Key, Departed, KeyHash> departed_;
  std::uint64_t walk_ = 0;
  // CPU of members that left, by their parent, not yet found in its reaped CPU.
  using Credits = std::unordered_map<pid_t, std::uint64_t>;
  static std::uint64_t take(Credits& credits, pid_t parent, std::uint64_t amount);
  Credits fresh_, carried_;
  std::uint64_t total_ns_ = 0;
};

}  // namespace perfkit
