// The descendant walk and the tree reader against real process trees: every
// descendant found, PSS and USS within RSS, an exited root noted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>

#include "descendants.hpp"
#include "forked_children.hpp"
#include "sampler.hpp"
#include "tree_sampler.hpp"

namespace perfkit {
namespace {

using namespace std::chrono_literals;

// A shell with two sleeping children (grandchildren of the test). The shell
// is killed by ForkedChildren; the sleeps found by the walk are killed here,
// and live at most 5 s if a test fails before that.
struct ShellWithTwoSleeps {
  procmond::testing::ForkedChildren children;
  pid_t shell = children.spawn_exec({"/bin/sh", "-c", "sleep 5 & sleep 5 & wait"});
  std::vector<pid_t> found;

  ShellWithTwoSleeps() {
    procmon::UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DescendantFinder finder(proc.get());
    for (int i = 0; i < 200 && found.size() < 3; ++i) {
      std::this_thread::sleep_for(10ms);
      finder.find(shell, found);
    }
  }
  ~ShellWithTwoSleeps() {
    for (std::size_t i = 1; i < found.size(); ++i) ::kill(found[i], SIGKILL);
  }
};

TEST(DescendantFinder, FindsChildrenAndGrandchildren) {
  ShellWithTwoSleeps tree;
  ASSERT_EQ(tree.found.size(), 3u);
  EXPECT_EQ(tree.found[0], tree.shell);
  procmon::UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DescendantFinder finder(proc.get());
  std::vector<pid_t> from_us;
  ASSERT_TRUE(finder.find(::getpid(), from_us));
  for (pid_t pid : tree.found)
    EXPECT_NE(std::find(from_us.begin(), from_us.end(), pid), from_us.end()) << pid;
}

TEST(DescendantFinder, ANonexistentRootIsFalse) {
  procmon::UniqueFd proc(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DescendantFinder finder(proc.get());
  std::vector<pid_t> out;
  EXPECT_FALSE(finder.find(0x3fffffff, out));
}

TEST(TreeReader, SumsTheTreeWithPssWithinRss) {
  ShellWithTwoSleeps tree;
  ASSERT_EQ(tree.found.size(), 3u);
  TreeReader reader(tree.shell, /*children=*/true, /*pss=*/true);
  TreeReading r;
  ASSERT_TRUE(reader.read(r));
  EXPECT_EQ(r.procs, 3u);
  EXPECT_GT(r.uss_bytes, 0u);
  EXPECT_LE(r.uss_bytes, r.pss_bytes);
  EXPECT_LT(r.pss_bytes, r.rss_sum_bytes);  // the sleeps share their text and libc
  TreeReader alone(tree.shell, /*children=*/false, /*pss=*/false);
  TreeReading one;
  ASSERT_TRUE(alone.read(one));
  EXPECT_EQ(one.procs, 1u);
  EXPECT_EQ(one.pss_bytes, 0u);
  EXPECT_LT(one.rss_sum_bytes, r.rss_sum_bytes);
}

TEST(TreeSampler, AnExitedRootEndsTheSeries) {
  procmond::testing::ForkedChildren children;
  pid_t pid = children.spawn_paused();
  TreeSampler s({.pid = pid, .hz = 50, .children = true, .pss = true});
  s.start();
  std::this_thread::sleep_for(100ms);
  ::kill(pid, SIGKILL);
  std::this_thread::sleep_for(100ms);
  s.stop();
  EXPECT_TRUE(s.exited());
  ASSERT_FALSE(s.series().t.empty());
  EXPECT_LE(s.series().t.back(), s.exit_t());
  EXPECT_EQ(s.series().walk_ns.size(), s.series().t.size());
}

TEST(TreeSampler, ANonexistentPidIsEsrch) {
  try {
    TreeSampler s({.pid = 0x3fffffff});
    FAIL() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ESRCH);
  }
}

TEST(Sampler, AStopRightAfterTheStartStillHasOneSample) {
  Sampler s({.pid = ::getpid(), .hz = 1});
  s.start();
  s.stop();
  EXPECT_EQ(s.series().t.size(), 1u);
  EXPECT_EQ(s.series().slow_t.size(), 1u);
}

TEST(Sampler, AStopWakesTheSleepingThreadAtOnce) {
  // At 1 Hz, a stop that waited for the next deadline would take up to a second.
  Sampler s({.pid = ::getpid(), .hz = 1});
  s.start();
  std::this_thread::sleep_for(50ms);
  const auto before = std::chrono::steady_clock::now();
  s.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 500ms);
  EXPECT_EQ(s.series().t.size(), 1u);
}

}  // namespace
}  // namespace perfkit
