// The readers against real files: a temporary directory stands in for /proc
// where the content must be chosen, and /proc/self where it must be real.

#include "procfs/read.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

#include "procfs/pid_directory.hpp"
#include "procfs/stat.hpp"
#include "procfs/statm.hpp"
#include "procfs/status.hpp"

namespace procfs {
namespace {

class FakeDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/procfs_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = open_proc_root(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(root_ / name).parent_path());
    std::ofstream(root_ / name, std::ios::binary) << text;
  }
  std::filesystem::path root_;
  procmon::UniqueFd dir_;
};

TEST_F(FakeDir, ReadAtGivesTheWholeSmallFile) {
  write("42/statm", "1 2 3 4 5 6 7\n");
  std::array<char, 64> buf;
  auto text = read_at(dir_.get(), PidPath(42, "statm").c_str(), buf);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "1 2 3 4 5 6 7\n");
}

TEST_F(FakeDir, AFileThatFillsTheBufferIsRefusedNotCut) {
  write("42/status", std::string(64, 'x'));
  std::array<char, 64> buf;
  errno = 0;
  EXPECT_FALSE(read_at(dir_.get(), "42/status", buf));
  EXPECT_EQ(errno, EFBIG);
}

TEST_F(FakeDir, AMissingFileSaysWhy) {
  std::array<char, 64> buf;
  EXPECT_FALSE(read_at(dir_.get(), "43/stat", buf));
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FakeDir, ReadCappedFlagsTruncation) {
  write("42/cmdline", std::string(10'000, 'a') + '\0');
  std::string out;
  auto truncated = read_capped_at(dir_.get(), "42/cmdline", 4096, out);
  ASSERT_TRUE(truncated);
  EXPECT_TRUE(*truncated);
  EXPECT_EQ(out.size(), 4096u);

  write("43/cmdline", std::string(4096, 'b'));  // exactly the cap: whole
  truncated = read_capped_at(dir_.get(), "43/cmdline", 4096, out);
  ASSERT_TRUE(truncated);
  EXPECT_FALSE(*truncated);
  EXPECT_EQ(out, std::string(4096, 'b'));
}

TEST_F(FakeDir, PidDirectoryListsOnlyNumericEntries) {
  for (const char* name : {"1/stat", "22/stat", "self/stat", "x1/stat", "333/stat"})
    write(name, "");
  write("7x", "");
  PidDirectory pids(dir_.get());
  std::vector<int> seen;
  ASSERT_TRUE(pids.for_each_pid([&](int pid, std::string_view) { seen.push_back(pid); }));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int>{1, 22, 333}));
}

TEST_F(FakeDir, ReadPathGivesAWholeFileOfAnyLength) {
  write("meminfo", std::string(20'000, 'm'));
  auto text = read_path((root_ / "meminfo").c_str());
  ASSERT_TRUE(text);
  EXPECT_EQ(text->size(), 20'000u);
  EXPECT_FALSE(read_path((root_ / "absent").c_str()));
  EXPECT_EQ(errno, ENOENT);
}

TEST(PidPath, BuildsRelativePathsAndNeverOverflows) {
  EXPECT_STREQ(PidPath(42, "stat").c_str(), "42/stat");
  EXPECT_STREQ(PidPath("42", "cmdline").c_str(), "42/cmdline");
  EXPECT_STREQ(PidPath(42, 43, "children").c_str(), "42/task/43/children");
  EXPECT_EQ(std::string(PidPath(1, std::string(200, 'x')).c_str()).size(), 63u);
}

TEST(RealProc, HeldFdsRereadOurOwnFiles) {
  procmon::UniqueFd proc = open_proc_root();
  procmon::UniqueFd statm = open_at(proc.get(), PidPath(::getpid(), "statm").c_str());
  procmon::UniqueFd status = open_at(proc.get(), PidPath(::getpid(), "status").c_str());
  ASSERT_TRUE(statm && status);
  SmallFileBuffer buf;
  for (int i = 0; i < 2; ++i) {  // the second pread sees the file afresh
    auto m = pread_whole(statm.get(), buf);
    ASSERT_TRUE(m);
    ASSERT_TRUE(parse_statm(*m));
    EXPECT_GT(parse_statm(*m)->resident_pages, 0u);
    auto s = pread_whole(status.get(), buf);
    ASSERT_TRUE(s);
    StatusFields fields;
    ASSERT_TRUE(parse_status(*s, fields));
    EXPECT_EQ(fields.uid, ::getuid());
    EXPECT_GT(fields.vm_hwm_bytes.value_or(0), 0u);
  }
  auto stat = read_at(proc.get(), PidPath(::getpid(), "stat").c_str(), buf);
  ASSERT_TRUE(stat);
  StatFields f;
  ASSERT_TRUE(parse_stat(*stat, f));
  EXPECT_EQ(f.pid, ::getpid());
  EXPECT_EQ(f.ppid, ::getppid());
}

}  // namespace
}  // namespace procfs
