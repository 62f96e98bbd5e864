// The sampler against real children: what it reads agrees with what they do,
// an exit ends the series, a bad pid is an error, and the deadline grid holds
// (every deadline is either a sample or counted missed).
#include "sampler.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <system_error>
#include <thread>

#include "forked_children.hpp"
#include "procfs/quick_read.hpp"

namespace perfkit {
namespace {

using namespace std::chrono_literals;

TEST(Sampler, ReadsRssCpuAndThreadsOfAChild) {
  procmond::testing::ForkedChildren children;
  pid_t pid = children.spawn_exec({"/bin/sleep", "3600.5"});
  std::this_thread::sleep_for(50ms);  // let the exec land
  Sampler s({.pid = pid, .hz = 200});
  s.start();
  std::this_thread::sleep_for(300ms);
  s.stop();
  const Series& series = s.series();
  ASSERT_GT(series.t.size(), 10u);
  EXPECT_FALSE(s.exited());
  EXPECT_GT(series.rss_bytes.back(), 0u);
  EXPECT_EQ(series.threads.back(), 1u);
  EXPECT_GE(series.cpu_ns.back(), series.cpu_ns.front());
  EXPECT_GT(s.hwm_bytes(), 0u);
  ASSERT_FALSE(series.open_fds.empty());
  EXPECT_GE(series.open_fds.back(), 3);  // stdin, stdout, stderr at least
  EXPECT_TRUE(std::is_sorted(series.t.begin(), series.t.end()));
}

TEST(Sampler, EveryDeadlineIsASampleOrCountedMissed) {
  procmond::testing::ForkedChildren children;
  pid_t pid = children.spawn_paused();
  Sampler s({.pid = pid, .hz = 500});
  s.start();
  std::this_thread::sleep_for(400ms);
  s.stop();
  const double deadlines = s.duration_s() * 500;
  const double accounted = static_cast<double>(s.series().t.size() + s.missed());
  EXPECT_NEAR(accounted, deadlines, 3)
      << "samples " << s.series().t.size() << " missed " << s.missed();
}

TEST(Sampler, AnExitEndsTheSeriesAndIsNoted) {
  procmond::testing::ForkedChildren children;
  pid_t pid = children.spawn_paused();
  Sampler s({.pid = pid, .hz = 100});
  s.start();
  std::this_thread::sleep_for(100ms);
  ::kill(pid, SIGKILL);  // a zombie until reaped: exited all the same
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(s.series().t.size() > 0);
  s.stop();
  EXPECT_TRUE(s.exited());
  EXPECT_GT(s.exit_t(), 0.05);
  EXPECT_LE(s.series().t.back(), s.exit_t());
}

// A process names itself anything: its comm is the name it was executed by,
// and the first line of status is "Name:\t<comm>". This one is called
// "VmHWM:999999999" (15 bytes, a whole comm) and holds about 1 MB.
TEST(Sampler, AHostileNameChangesNoReading) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sampler_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto hostile = dir / "VmHWM:999999999";
  std::filesystem::create_symlink("/bin/sleep", hostile);
  procmond::testing::ForkedChildren children;
  const pid_t pid = children.spawn_exec({hostile.string(), "3600.25"});
  for (int i = 0; i < 200; ++i) {
    auto stat = procfs::read_stat(pid);
    if (stat && stat->comm.view() == "VmHWM:999999999") break;
    std::this_thread::sleep_for(5ms);
  }
  std::filesystem::remove_all(dir);  // once exec'd, the child keeps its image
  ASSERT_EQ(procfs::read_stat(pid)->comm.view(), "VmHWM:999999999");
  Sampler s({.pid = pid, .hz = 100, .slow_hz = 100});
  s.start();
  std::this_thread::sleep_for(100ms);
  s.stop();
  EXPECT_EQ(s.malformed(), 0u);
  EXPECT_GT(s.hwm_bytes(), 0u);
  EXPECT_LT(s.hwm_bytes(), 64u << 20) << "a name was read as VmHWM";
  ASSERT_FALSE(s.series().threads.empty());
  EXPECT_EQ(s.series().threads.back(), 1u);
}

TEST(Sampler, SamplesOnceAndRefusesARestart) {
  Sampler s({.pid = ::getpid(), .hz = 100});
  s.start();
  s.stop();
  // A second run would append a series whose clock restarts at 0.
  EXPECT_THROW(s.start(), std::logic_error);
  EXPECT_FALSE(s.series().t.empty());
}

TEST(Sampler, ANonexistentPidIsEsrch) {
  try {
    Sampler s({.pid = 0x3fffffff});
    FAIL() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ESRCH);
  }
}

TEST(Sampler, BadRatesAreRefused) {
  EXPECT_THROW(Sampler({.pid = ::getpid(), .hz = 0}), std::invalid_argument);
  EXPECT_THROW(Sampler({.pid = ::getpid(), .hz = 1e6}), std::invalid_argument);
}

TEST(Sampler, StorageIsAllocatedUpFrontAndFullStorageStops) {
  Sampler s({.pid = ::getpid(), .hz = 1000, .max_seconds = 0.05});
  const auto* before = s.series().t.data();
  s.start();
  std::this_thread::sleep_for(200ms);
  s.stop();
  EXPECT_TRUE(s.truncated());
  EXPECT_EQ(s.series().t.data(), before) << "no reallocation while sampling";
}

}  // namespace
}  // namespace perfkit
