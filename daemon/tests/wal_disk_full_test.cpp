// A full disk: append fails with ENOSPC, leaves no half record, and succeeds
// again once space is back. Needs root to mount a small tmpfs.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "wal_test_support.hpp"

namespace procmond::wal {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class WalDiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    if (::mount("tmpfs", tmp_.path().c_str(), "tmpfs", 0, "size=256k") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(tmp_.path().c_str(), MNT_DETACH);
  }

  fs::path dir() const { return tmp_.path() / "wal"; }
  fs::path filler() const { return tmp_.path() / "filler"; }

 private:
  TempDir tmp_;
  bool mounted_ = false;
};

TEST_F(WalDiskFull, AppendFailsCleanlyAndRecoversWhenSpaceIsBack) {
  write_file(filler(), std::string(96 << 10, 'f'));
  WalOptions o;
  o.dir = dir();
  o.segment_bytes = 64 << 10;  // rotations on the way: a new segment may be what fails
  std::optional<WalWriter> w(WalWriter::open(o));

  // Batches of 4 records of 3,000 bytes until one is cut short by the full
  // disk, then single records until not even one fits.
  std::uint64_t next = 1;
  auto fill_up = [&](std::uint64_t batch) {
    for (int i = 0; i < 1000; ++i) {
      std::vector<std::string> owned;
      for (std::uint64_t k = 0; k < batch; ++k) owned.push_back(make_payload(next + k, 3000));
      std::vector<std::string_view> views(owned.begin(), owned.end());
      errno = 0;
      if (!w->commit(views)) return errno;
      next += batch;
    }
    return 0;
  };
  int err = fill_up(4);
  ASSERT_EQ(err, ENOSPC) << std::strerror(err);
  err = fill_up(1);
  ASSERT_EQ(err, ENOSPC) << std::strerror(err);
  const std::uint64_t last = w->last_seq();
  EXPECT_EQ(last, next - 1);
  ASSERT_GT(last, 0u);
  EXPECT_EQ(w->counters().failures, 2u);

  // Nothing of the failed batches is left behind.
  ReadBack back = read_all(dir());
  EXPECT_EQ(back.seqs, iota_seqs(1, last));
  EXPECT_TRUE(back.corruptions.empty());

  // Recoverable as it stands: no torn tail to cut.
  w.reset();
  RecoveryReport report;
  w.emplace(WalWriter::open(o, &report));
  EXPECT_EQ(report.last_seq, last);
  EXPECT_EQ(report.torn_bytes_cut, 0u);
  EXPECT_TRUE(report.corruptions.empty());

  // Space back: the same writer goes on from where it stood.
  fs::remove(filler());
  append_range(*w, next, next + 19, 3000, 4);
  back = read_all(dir());
  EXPECT_EQ(back.seqs, iota_seqs(1, next + 19));
  EXPECT_TRUE(back.payloads_ok);
  EXPECT_TRUE(back.corruptions.empty());
}

}  // namespace
}  // namespace procmond::wal
