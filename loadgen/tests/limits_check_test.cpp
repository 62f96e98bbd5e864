// Each limit, when in the way, is named with its value and how to raise it.
#include "limits_check.hpp"

#include <gtest/gtest.h>

namespace loadgen {
namespace {

SystemLimits roomy() {
  return {.pid_max = 4'194'304,
          .threads_max = 1'000'000,
          .tasks_now = 200,
          .nproc = std::nullopt,
          .fd_limit = 1024,
          .mem_available = 8ull << 30,
          .cpus = 2};
}

TEST(Limits, NothingIsSaidWhenEverythingFits) {
  EXPECT_TRUE(
      check_limits(roomy(), {.processes = 10'000, .fds = 16, .bytes_each = 160 << 10}).empty());
}

TEST(Limits, PidMaxIsNamedWithItsValueAndTheSysctl) {
  SystemLimits l = roomy();
  l.pid_max = 32768;
  auto why = check_limits(l, {.processes = 40'000});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("kernel.pid_max is 32768"), std::string::npos) << why[0];
  EXPECT_NE(why[0].find("sysctl -w kernel.pid_max="), std::string::npos) << why[0];
}

TEST(Limits, ThreadsMax) {
  SystemLimits l = roomy();
  l.threads_max = 5000;
  auto why = check_limits(l, {.processes = 10'000});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("kernel.threads-max is 5000"), std::string::npos) << why[0];
}

TEST(Limits, NprocCountsWhatTheUserAlreadyRuns) {
  SystemLimits l = roomy();
  l.nproc = 10'000;
  l.nproc_used = 9'000;
  auto why = check_limits(l, {.processes = 2'000});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("RLIMIT_NPROC (ulimit -u) is 10000"), std::string::npos) << why[0];
  EXPECT_NE(why[0].find("ulimit -u"), std::string::npos);
  l.nproc_used = 100;
  EXPECT_TRUE(check_limits(l, {.processes = 2'000}).empty());
}

TEST(Limits, FdLimit) {
  SystemLimits l = roomy();
  l.fd_limit = 8;
  auto why = check_limits(l, {.processes = 1, .fds = 16});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("RLIMIT_NOFILE (ulimit -n) is 8"), std::string::npos) << why[0];
}

TEST(Limits, MemoryNamesMemAvailable) {
  SystemLimits l = roomy();
  l.mem_available = 1ull << 30;
  auto why = check_limits(l, {.processes = 10'000, .bytes_each = 1 << 20});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("MemAvailable is 1024 MiB"), std::string::npos) << why[0];
}

TEST(Limits, CpuBurnBeyondTheOnlineCores) {
  auto why = check_limits(roomy(), {.processes = 10'000, .cpu_cores = 100});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("ask 100.00 cores of burn and this machine has 2 online"),
            std::string::npos)
      << why[0];
  EXPECT_TRUE(check_limits(roomy(), {.processes = 10'000, .cpu_cores = 1.0}).empty());
}

TEST(Limits, EveryLimitInTheWayIsReported) {
  SystemLimits l = roomy();
  l.pid_max = 1000;
  l.threads_max = 1000;
  l.mem_available = 1 << 20;
  EXPECT_EQ(check_limits(l, {.processes = 5000, .bytes_each = 4096}).size(), 3u);
}

// Today's code multiplied and added in 64 bits: 2 children of 2^63 + 2^20
// bytes each needed "2 MiB", and passed.
TEST(Limits, AHugeDemandIsRefusedNotWrapped) {
  const std::uint64_t huge = (1ull << 63) + (1ull << 20);
  auto why = check_limits(roomy(), {.processes = 2, .bytes_each = huge});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("MemAvailable"), std::string::npos) << why[0];
  // As many processes as 64 bits hold do not fit in pid_max either.
  EXPECT_GE(check_limits(roomy(), {.processes = UINT64_MAX}).size(), 2u);
}

TEST(Limits, LimitsThatCannotBeReadAreARefusalNotAnException) {
  auto why = check_limits([]() -> SystemLimits { throw std::invalid_argument("stoull"); },
                          Demand{.processes = 1});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("could not be read (stoull)"), std::string::npos) << why[0];
  EXPECT_TRUE(check_limits([] { return roomy(); }, Demand{.processes = 1}).empty());
}

TEST(Limits, ThisMachineIsReadable) {
  SystemLimits l = read_system_limits();
  EXPECT_GT(l.pid_max, 0u);
  EXPECT_GT(l.threads_max, 0u);
  EXPECT_GT(l.tasks_now, 0u);
  EXPECT_GT(l.fd_limit, 0u);
  EXPECT_GT(l.mem_available, 0u);
  EXPECT_GT(l.cpus, 0u);
}

}  // namespace
}  // namespace loadgen
