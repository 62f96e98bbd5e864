#include "procfs/children.hpp"
#include "procfs/cmdline.hpp"
#include "procfs/fields.hpp"
#include "procfs/smaps_rollup.hpp"
#include "procfs/stat.hpp"
#include "procfs/statm.hpp"
#include "procfs/status.hpp"
#include "procfs/system.hpp"

#include <gtest/gtest.h>

#include <string>

namespace procfs {
namespace {

// A stat line as the kernel prints it, with a chosen comm and fields.
std::string stat_line(const std::string& comm, int pid = 42) {
  return std::to_string(pid) + " (" + comm +
         ") S 1 42 42 0 -1 4194560 100 0 0 0 7 3 5 9 20 0 2 0 123456 "
         "8192000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

// A whole line of Linux 6.x (52 fields), taken from a real process, with a
// chosen comm.
std::string full_stat_line(const std::string& comm) {
  return "26978 (" + comm +
         ") R 26932 26932 4686 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 160764 3133440 415 "
         "18446744073709551615 93948722479104 93948722498985 140731112785136 0 0 0 0 0 0 0 0 0 "
         "17 1 0 0 0 0 0 93948722514992 93948722516608 93949435887616 140731112786354 "
         "140731112786374 140731112786374 140731112787947 0\n";
}

void expect_full_line_tail(const StatFields& f) {
  EXPECT_EQ(f.rss_pages, 415u);
  EXPECT_EQ(f.start_code, 93948722479104u);
  EXPECT_EQ(f.end_code, 93948722498985u);
  EXPECT_EQ(f.start_stack, 140731112785136u);
  EXPECT_EQ(f.arg_start, 140731112786354u);
  EXPECT_EQ(f.arg_end, 140731112786374u);
  EXPECT_EQ(f.env_start, 140731112786374u);
  EXPECT_EQ(f.env_end, 140731112787947u);
}

TEST(ParseStat, ReadsTheExecAddressesOfAWholeLine) {
  StatFields f;
  ASSERT_TRUE(parse_stat(full_stat_line("cat"), f));
  EXPECT_EQ(f.pid, 26978);
  EXPECT_EQ(f.start_time, 160764u);
  expect_full_line_tail(f);
}

TEST(ParseStat, ALineEndingAtField24LeavesTheTailZero) {
  StatFields f;
  f.arg_start = f.env_end = 99;  // a reused struct: the tail must be reset
  const std::string line =
      "42 (old) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 5 9 20 0 2 0 123456 "
      "8192000 300";
  for (const std::string& text : {line, line + "\n", line + " 1844"}) {
    ASSERT_TRUE(parse_stat(text, f)) << text;
    EXPECT_EQ(f.rss_pages, 300u);
    EXPECT_EQ(f.start_code, 0u);
    EXPECT_EQ(f.arg_start, 0u);
    EXPECT_EQ(f.env_end, 0u);
  }
  // Ending after field 27: 26 and 27 read, the rest 0.
  ASSERT_TRUE(parse_stat(line + " 1844 5 6\n", f));
  EXPECT_EQ(f.start_code, 5u);
  EXPECT_EQ(f.end_code, 6u);
  EXPECT_EQ(f.start_stack, 0u);
}

// The addresses are read 8 digits a step: one of exactly 8 or 16 digits ends
// a step, and the next (no digit) must add nothing. A non-PIE program's code
// ends at an 8-digit address (cc1plus: 28879845), which read as 57759690.
TEST(ParseStat, AnAddressOfEightOrSixteenDigitsIsReadOnce) {
  StatFields f;
  std::string line = full_stat_line("cc1plus");
  line.replace(line.find("93948722479104"), 14, "6651904");
  line.replace(line.find("93948722498985"), 14, "28879845");
  line.replace(line.find("140731112786354"), 15, "1407311127863540");
  ASSERT_TRUE(parse_stat(line, f));
  EXPECT_EQ(f.start_code, 6651904u);
  EXPECT_EQ(f.end_code, 28879845u);
  EXPECT_EQ(f.arg_start, 1407311127863540u);
  EXPECT_EQ(f.arg_end, 140731112786374u);
}

TEST(ParseStat, AnExecAddressThatIsNotANumberIsMalformed) {
  StatFields f;
  std::string line = full_stat_line("cat");
  line.replace(line.find("93948722479104"), 1, "x");
  EXPECT_FALSE(parse_stat(line, f));
  line = full_stat_line("cat");
  line.replace(line.find("140731112787947"), 15, "-1");
  EXPECT_FALSE(parse_stat(line, f));
}

TEST(ParseStat, ReadsTheFieldsOfAPlainLine) {
  StatFields f;
  ASSERT_TRUE(parse_stat(stat_line("bash"), f));
  EXPECT_EQ(f.pid, 42);
  EXPECT_EQ(f.comm.view(), "bash");
  EXPECT_EQ(f.state, 'S');
  EXPECT_EQ(f.ppid, 1);
  EXPECT_EQ(f.pgrp, 42);
  EXPECT_EQ(f.session, 42);
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

TEST_P(HostileComm, LeavesTheExecAddressesOfAWholeLineIntact) {
  StatFields f;
  ASSERT_TRUE(parse_stat(full_stat_line(GetParam()), f)) << GetParam();
  EXPECT_EQ(f.comm.view(), GetParam().substr(0, 64));
  expect_full_line_tail(f);
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

// A status file as the kernel prints it (trimmed), with a chosen Name line.
std::string status_text(const std::string& name) {
  return "Name:\t" + name +
         "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nPid:\t42\nPPid:\t1\n"
         "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
         "VmPeak:\t    3060 kB\nVmHWM:\t    1732 kB\nVmRSS:\t    1700 kB\nThreads:\t3\n"
         "SigQ:\t0/96365\nvoluntary_ctxt_switches:\t11\nnonvoluntary_ctxt_switches:\t2\n";
}

TEST(ParseStatus, ReadsEachFieldAtALineStart) {
  StatusFields s;
  ASSERT_TRUE(parse_status(status_text("bash"), s));
  EXPECT_EQ(s.uid, 1000u);
  EXPECT_EQ(s.threads, 3u);
  EXPECT_EQ(s.vm_hwm_bytes, 1732u * 1024);
  EXPECT_EQ(s.vm_rss_bytes, 1700u * 1024);
  EXPECT_EQ(s.voluntary_switches, 11u);
  EXPECT_EQ(s.involuntary_switches, 2u);
}

// A process may call itself anything (prctl PR_SET_NAME); the kernel escapes
// a newline in status's Name line, but even a raw one must not fool us.
class HostileName : public ::testing::TestWithParam<std::string> {};

TEST_P(HostileName, ChangesNoField) {
  StatusFields s;
  // A raw newline makes a second line with a key we read: refused as malformed.
  const bool raw_newline = GetParam().find('\n') != std::string::npos;
  ASSERT_EQ(parse_status(status_text(GetParam()), s), !raw_newline);
  if (raw_newline) return;
  EXPECT_EQ(s.uid, 1000u);
  EXPECT_EQ(s.threads, 3u);
  EXPECT_EQ(s.vm_hwm_bytes, 1732u * 1024);
  EXPECT_EQ(s.voluntary_switches, 11u);
  EXPECT_EQ(s.involuntary_switches, 2u);
}

INSTANTIATE_TEST_SUITE_P(Names, HostileName,
                         ::testing::Values("VmHWM:999999999", "VmHWM:\t999999999 kB", "Uid:\t0",
                                           "\\nVmHWM:\t9", "x\nVmHWM:\t999999999 kB",
                                           "x\nUid:\t0\t0\t0\t0", "Threads: 1000",
                                           "nonvoluntary_ctxt_switches:\t9"));

TEST(ParseStatus, ARepeatedFieldIsMalformed) {
  StatusFields s;
  // The one way a second VmHWM line can appear: text that a process chose.
  EXPECT_FALSE(parse_status("Name:\tx\nVmHWM:\t1 kB\nVmHWM:\t2 kB\n", s));
  EXPECT_FALSE(parse_status("Name:\tx\nUid:\t0\t0\t0\t0\nUid:\t1\t1\t1\t1\n", s));
}

TEST(ParseStatus, AMissingFieldStaysEmptyNeverZero) {
  StatusFields s;
  // A zombie: no Vm* lines.
  ASSERT_TRUE(parse_status("Name:\tz\nState:\tZ (zombie)\nUid:\t0\t0\t0\t0\nThreads:\t1\n", s));
  EXPECT_FALSE(s.vm_hwm_bytes.has_value());
  EXPECT_FALSE(s.vm_rss_bytes.has_value());
  EXPECT_EQ(s.threads, 1u);
}

TEST(ParseStatus, AValueThatIsNotANumberIsMalformed) {
  StatusFields s;
  EXPECT_FALSE(parse_status("Name:\tx\nVmHWM:\tlots kB\n", s));
  EXPECT_FALSE(parse_status("Name:\tx\nThreads:\t-1\n", s));
  EXPECT_FALSE(parse_status("Name:\tx\nThreads:\t99999999999\n", s));  // past uint32
  EXPECT_FALSE(parse_status("Name:\tx\nUid:\n", s));
  EXPECT_FALSE(parse_status("Name:\tx\nVmHWM:\t18446744073709551615 kB\n", s));  // bytes overflow
}

TEST(ParseStatm, ReadsSevenPageCounts) {
  auto m = parse_statm("765 441 412 5 0 123 0\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size_pages, 765u);
  EXPECT_EQ(m->resident_pages, 441u);
  EXPECT_EQ(m->shared_pages, 412u);
  EXPECT_TRUE(parse_statm("0 0 0 0 0 0 0\n"));  // a zombie
}

TEST(ParseStatm, RejectsAnythingElse) {
  EXPECT_FALSE(parse_statm(""));
  EXPECT_FALSE(parse_statm("765 441 412 5 0 123\n"));      // six
  EXPECT_FALSE(parse_statm("765 441 412 5 0 123 0 9\n"));  // eight
  EXPECT_FALSE(parse_statm("765  441 412 5 0 123 0\n"));   // two spaces
  EXPECT_FALSE(parse_statm("765 -441 412 5 0 123 0\n"));
  EXPECT_FALSE(parse_statm("765 441 412 5 0 123 0x\n"));
}

const char* const kSmapsRollup =
    "560f92f3f000-7ffdbfa9c000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:                1688 kB\nPss:                 220 kB\nPss_Dirty:           116 kB\n"
    "Shared_Clean:       1532 kB\nShared_Dirty:          0 kB\nPrivate_Clean:        40 kB\n"
    "Private_Dirty:       116 kB\nReferenced:         1688 kB\nSwap:                  8 kB\n"
    "SwapPss:               0 kB\nLocked:                0 kB\n";

TEST(ParseSmapsRollup, ReadsRssPssAndUss) {
  auto r = parse_smaps_rollup(kSmapsRollup);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rss_bytes, 1688u * 1024);
  EXPECT_EQ(r->pss_bytes, 220u * 1024);  // not Pss_Dirty's
  EXPECT_EQ(r->uss_bytes(), (40u + 116u) * 1024);
  EXPECT_EQ(r->swap_bytes, 8u * 1024);  // not SwapPss's
}

TEST(ParseSmapsRollup, AMissingOrRepeatedFieldIsMalformed) {
  EXPECT_FALSE(parse_smaps_rollup(""));  // a zombie's: nothing to sum
  std::string text = kSmapsRollup;
  EXPECT_FALSE(parse_smaps_rollup(text.substr(0, text.find("Private_Dirty"))));
  EXPECT_FALSE(parse_smaps_rollup(text + "Pss:  1 kB\n"));
  std::string bad = text;
  bad.replace(bad.find("220"), 3, "2x0");
  EXPECT_FALSE(parse_smaps_rollup(bad));
}

TEST(ParseChildren, ReadsPidsEachFollowedByASpace) {
  std::vector<pid_t> out{7};
  ASSERT_TRUE(parse_children("123 456 ", out));
  EXPECT_EQ(out, (std::vector<pid_t>{7, 123, 456}));
  ASSERT_TRUE(parse_children("", out));  // no children
  EXPECT_EQ(out.size(), 3u);
  ASSERT_TRUE(parse_children("9", out));
  EXPECT_EQ(out.back(), 9);
}

TEST(ParseChildren, RefusesAnythingButPidsAndLeavesOutAsItWas) {
  std::vector<pid_t> out{7};
  for (const char* bad : {"12 x ", "12  13 ", "-1 ", "99999999999 ", "0 ", " 12 ", "1\t2 "}) {
    EXPECT_FALSE(parse_children(bad, out)) << bad;
    EXPECT_EQ(out, std::vector<pid_t>{7}) << bad;
  }
}

TEST(ParseMeminfo, ReadsTotalAvailableAndUnreclaimableSlab) {
  auto m = parse_meminfo(
      "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n"
      "SUnreclaim:       50000 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->total_bytes, 24000000ull * 1024);
  EXPECT_EQ(m->available_bytes, 20000000ull * 1024);
  EXPECT_EQ(m->slab_unreclaimable_bytes, 50000ull * 1024);
  EXPECT_FALSE(parse_meminfo("MemTotal:  1 kB\nMemAvailable:  1 kB\n"));
}

TEST(ParseLoadavg, ReadsEveryTask) {
  EXPECT_EQ(parse_loadavg_tasks("6.39 2.76 1.07 8/119 6124\n"), 119u);
  EXPECT_FALSE(parse_loadavg_tasks("6.39 2.76 1.07 8 6124\n"));
  EXPECT_FALSE(parse_loadavg_tasks("6.39 2.76\n"));
}

TEST(Fields, NumbersAreWholeOrRefused) {
  EXPECT_EQ(parse_u64("42"), 42u);
  EXPECT_FALSE(parse_u64(""));
  EXPECT_FALSE(parse_u64("+42"));
  EXPECT_FALSE(parse_u64("42 "));
  EXPECT_FALSE(parse_u64("18446744073709551616"));  // 2^64
  EXPECT_EQ(parse_kib("4 kB"), 4096u);
  EXPECT_FALSE(parse_kib("4 MB"));
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
}  // namespace procfs
