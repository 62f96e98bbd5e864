// The tree's CPU from walks of made-up readings: every case a real tree meets
// (a member leaving with its CPU, a child reaped by its parent, late or
// between walks, a reused pid) without waiting for a real process to burn.
#include "tree_cpu.hpp"

#include <gtest/gtest.h>

#include <initializer_list>

namespace perfkit {
namespace {

constexpr std::uint64_t kS = 1'000'000'000;  // ns in a second

using M = TreeCpu::MemberCpu;

std::uint64_t walk(TreeCpu& cpu, std::initializer_list<M> members) {
  cpu.begin_walk();
  for (const M& m : members) cpu.add(m);
  return cpu.end_walk();
}

TEST(TreeCpu, TheFirstWalkCountsWhatEveryMemberHas) {
  TreeCpu cpu;
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS, .reaped_ns = 2 * kS},
                       {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS}}),
            8 * kS);
}

TEST(TreeCpu, AMemberThatLeavesTakesNothingCountedAndFlattensNothing) {
  TreeCpu cpu;
  walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS},
             {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS}});
  // 11 was reparented out of the tree (a double fork) and still lives; the
  // root burned half a second since: the total grows by that at once. A sum
  // of the members kept as a running maximum would read 6 s until the tree
  // had burned 5 s more.
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS + kS / 2}}), 6 * kS + kS / 2);
}

TEST(TreeCpu, AChildReapedByItsParentIsCountedOnce) {
  TreeCpu cpu;
  walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS},
             {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS}});
  // 11 burned 0.2 s more, exited, and 10 reaped it: 10's reaped CPU holds all 5.2 s.
  EXPECT_EQ(
      walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS, .reaped_ns = 5 * kS + kS / 5}}),
      6 * kS + kS / 5);
}

TEST(TreeCpu, AChildReapedBetweenItsParentsReadAndItsOwnIsCountedOnceAWalkLate) {
  TreeCpu cpu;
  walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS},
             {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS}});
  // Walk 2 read 10 before the reaping and found 11 gone after it.
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS}}), 6 * kS);
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS, .reaped_ns = 5 * kS}}),
            6 * kS);
  // The credit is spent: the parent's next reaped child counts in full.
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS, .reaped_ns = 7 * kS}}),
            8 * kS);
}

TEST(TreeCpu, AChildBornAndReapedBetweenTwoWalksCountsThroughItsParent) {
  TreeCpu cpu;
  walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS}});
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS, .reaped_ns = 3 * kS}}),
            4 * kS);
}

TEST(TreeCpu, AReusedPidIsANewMember) {
  TreeCpu cpu;
  walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS},
             {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS}});
  // 11 left (reparented), and a new process got pid 11 in the tree.
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS},
                       {.pid = 11, .start_time = 9, .ppid = 10, .own_ns = kS / 10}}),
            6 * kS + kS / 10);
}

TEST(TreeCpu, AMemberMissingFromOneWalkIsNotCountedAgainWhenItIsBack) {
  TreeCpu cpu;
  walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS},
             {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS}});
  // A walk that missed 11 (its parent's children file skipped it).
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS}}), 6 * kS);
  // Back, having burned 0.1 s more: only that is new.
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS},
                       {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS + kS / 10}}),
            6 * kS + kS / 10);
  // And its parent reaping another child later counts that child in full.
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 1 * kS, .reaped_ns = 2 * kS},
                       {.pid = 11, .start_time = 2, .ppid = 10, .own_ns = 5 * kS + kS / 10}}),
            8 * kS + kS / 10);
}

TEST(TreeCpu, NeverFalls) {
  TreeCpu cpu;
  walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 3 * kS}});
  EXPECT_EQ(walk(cpu, {{.pid = 10, .start_time = 1, .own_ns = 2 * kS}}), 3 * kS);
}

}  // namespace
}  // namespace perfkit
