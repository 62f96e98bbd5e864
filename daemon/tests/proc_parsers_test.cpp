#include "proc_parsers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace procmond {
namespace {

// A stat line as the kernel prints it, with a chosen comm and fields.
std::string stat_line(const std::string& comm, int pid = 42) {
  return std::to_string(pid) + " (" + comm +
         ") S 1 42 42 0 -1 4194560 100 0 0 0 7 3 5 9 20 0 2 0 123456 "
         "8192000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

TEST(ParseStat, ReadsTheFieldsOfAPlainLine) {
  StatFields f;
  ASSERT_TRUE(parse_stat(stat_line("bash"), f));
  EXPECT_EQ(f.pid, 42);
  EXPECT_EQ(f.comm.view(), "bash");
  EXPECT_EQ(f.state, 'S');
  EXPECT_EQ(f.ppid, 1);
  EXPECT_EQ(f.flags, 4194560u);
  EXPECT_EQ(f.utime, 7u);
  EXPECT_EQ(f.stime, 3u);
  EXPECT_EQ(f.cutime, 5u);
  EXPECT_EQ(f.cstime, 9u);
  EXPECT_EQ(f.threads, 2u);
  EXPECT_EQ(f.start_time, 123456u);
  EXPECT_EQ(f.vsize_bytes, 8192000u);
  EXPECT_EQ(f.rss_pages, 300u);
  EXPECT_FALSE(f.kernel_thread());
}

class HostileComm : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileComm, EndsAtTheLastParenthesis) {
  StatFields f;
  ASSERT_TRUE(parse_stat(stat_line(GetParam()), f)) << GetParam();
  EXPECT_EQ(f.comm.view(), GetParam().substr(0, 64));
  EXPECT_EQ(f.state, 'S');
  EXPECT_EQ(f.ppid, 1);
  EXPECT_EQ(f.start_time, 123456u);
}

INSTANTIATE_TEST_SUITE_P(Comms, HostileComm,
                         ::testing::Values("a) (b", "x y z", ")", "(", ") S 9 9 9", "", "((()))",
                                           "1 (2) 3", "tab\there", "new\nline",
                                           // longer than any kernel comm, ')' past 64 bytes
                                           std::string(70, 'x') + ") S 1 (" +
                                               std::string(40, ')')));

TEST(ParseStat, KernelThreadFlag) {
  StatFields f;
  std::string line =
      "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 20 0 0 "
      "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0";
  ASSERT_TRUE(parse_stat(line, f));
  EXPECT_TRUE(f.kernel_thread());
  EXPECT_EQ(f.ppid, 0);
  EXPECT_EQ(f.rss_pages, 0u);
}

TEST(ParseStat, LongKernelCommIsTruncatedNotOverflowed) {
  StatFields f;
  ASSERT_TRUE(parse_stat(stat_line(std::string(200, 'k')), f));
  EXPECT_EQ(f.comm.view(), std::string(64, 'k'));
}

TEST(ParseStat, RejectsMalformedLines) {
  StatFields f;
  EXPECT_FALSE(parse_stat("", f));
  EXPECT_FALSE(parse_stat("42", f));
  EXPECT_FALSE(parse_stat("42 (bash", f));
  EXPECT_FALSE(parse_stat("42 (bash) S 1 2 3", f));       // truncated
  EXPECT_FALSE(parse_stat("x (bash) S 1 42 42 0", f));    // pid not a number
  EXPECT_FALSE(parse_stat("42 (bash) SS 1 42 42 0", f));  // state not one char
  std::string bad_ppid = stat_line("bash");
  bad_ppid.replace(bad_ppid.find(") S 1") + 4, 1, "z");
  EXPECT_FALSE(parse_stat(bad_ppid, f));
}

TEST(ParseStatusUid, ReadsTheRealUid) {
  EXPECT_EQ(parse_status_uid("Name:\tx\nState:\tS\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n"),
            1000u);
  EXPECT_EQ(parse_status_uid("Name:\tUid: 5\nUid:\t7\t7\t7\t7"), 7u);  // a comm cannot fool it
  EXPECT_EQ(parse_status_uid("Name:\tx\nGid:\t0\n"), std::nullopt);
  EXPECT_EQ(parse_status_uid("Name:\tx\nUid:\tabc\n"), std::nullopt);
  EXPECT_EQ(parse_status_uid("Name:\tx\nUid:"), std::nullopt);
}

TEST(ParseCmdline, SplitsOnNul) {
  using V = std::vector<std::string>;
  EXPECT_EQ(parse_cmdline(std::string("sleep\0"
                                      "100\0",
                                      10)),
            (V{"sleep", "100"}));
  EXPECT_EQ(parse_cmdline(std::string("a\0\0b\0", 5)), (V{"a", "", "b"}));
  EXPECT_EQ(parse_cmdline(""), V{});
  EXPECT_EQ(parse_cmdline(std::string("\0", 1)), V{""});
  // setproctitle-style: one string with spaces and no terminating NUL
  EXPECT_EQ(parse_cmdline("postgres: writer process"), V{"postgres: writer process"});
}

}  // namespace
}  // namespace procmond
