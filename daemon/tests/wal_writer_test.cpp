// WalWriter on real files: rotation, reopen, torn tails, strangers, retention,
// sync policies and the errors of open.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>
#include <stdexcept>

#include "wal/segment_files.hpp"
#include "wal_test_support.hpp"

namespace procmond::wal {
namespace {

using namespace testing;
namespace fs = std::filesystem;

WalOptions small_segments(const fs::path& dir, std::uint64_t segment_bytes = 4096) {
  WalOptions o;
  o.dir = dir;
  o.segment_bytes = segment_bytes;
  return o;
}

TEST(WalWriter, RoundTripAcrossSegments) {
  TempDir tmp;
  {
    WalWriter w = WalWriter::open(small_segments(tmp.path()));
    EXPECT_EQ(w.last_seq(), 0u);
    append_range(w, 1, 1000, 100, 7);
    EXPECT_EQ(w.last_seq(), 1000u);
    EXPECT_EQ(w.counters().records, 1000u);
    EXPECT_EQ(w.counters().bytes, 1000u * (kRecordHeaderSize + 100));
    EXPECT_GT(w.counters().rotations, 20u);
    EXPECT_EQ(w.counters().failures, 0u);
  }
  const auto segments = segment_paths(tmp.path());
  ASSERT_GT(segments.size(), 20u);
  // Each segment is named for its first record's seq.
  for (const auto& s : segments) {
    const std::string bytes = read_file(s);
    ASSERT_GT(bytes.size(), kSegmentHeaderSize + kRecordHeaderSize);
    EXPECT_EQ(parse_segment_file_name(s.filename().string()),
              load_u64_le(bytes.data() + kSegmentHeaderSize + kRecordHeaderSize));
    EXPECT_LE(bytes.size(), 4096u + 7 * (kRecordHeaderSize + 100));  // passes by one batch at most
  }
  const ReadBack back = read_all(tmp.path());
  EXPECT_EQ(back.seqs, iota_seqs(1, 1000));
  EXPECT_TRUE(back.payloads_ok);
  EXPECT_TRUE(back.corruptions.empty());
}

TEST(WalWriter, ReopenContinuesTheSequence) {
  TempDir tmp;
  {
    WalWriter w = WalWriter::open(small_segments(tmp.path()));
    append_range(w, 1, 50);
  }
  RecoveryReport report;
  WalWriter w = WalWriter::open(small_segments(tmp.path()), &report);
  EXPECT_EQ(report.last_seq, 50u);
  EXPECT_EQ(w.last_seq(), 50u);
  EXPECT_EQ(report.torn_bytes_cut, 0u);
  EXPECT_TRUE(report.corruptions.empty());
  const std::string stale = make_payload(50);
  std::string_view one[] = {stale};
  errno = 0;
  EXPECT_FALSE(w.append(one));  // a seq not past the last
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(w.counters().failures, 1u);
  append_range(w, 51, 60);
  EXPECT_EQ(read_all(tmp.path()).seqs, iota_seqs(1, 60));
}

TEST(WalWriter, RejectsBadPayloadsWithoutWritingAny) {
  TempDir tmp;
  WalWriter w = WalWriter::open(small_segments(tmp.path()));
  const std::string a = make_payload(5), b = make_payload(5), tiny = "1234";
  const std::string big = make_payload(6, kMaxPayload + 1);
  for (auto batch : {std::vector<std::string_view>{a, b}, std::vector<std::string_view>{tiny},
                     std::vector<std::string_view>{big}}) {
    errno = 0;
    EXPECT_FALSE(w.append(batch));
    EXPECT_EQ(errno, EINVAL);
  }
  EXPECT_EQ(w.last_seq(), 0u);
  EXPECT_TRUE(read_all(tmp.path()).seqs.empty());
}

TEST(WalWriter, TornRecordAtTheTailIsCutAndAppendsContinue) {
  TempDir tmp;
  {
    WalWriter w = WalWriter::open(small_segments(tmp.path(), 1 << 20));
    append_range(w, 1, 20, 64);
  }
  const fs::path seg = segment_paths(tmp.path()).back();
  const auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 5);  // record 20 loses its last 5 bytes
  RecoveryReport report;
  WalWriter w = WalWriter::open(small_segments(tmp.path(), 1 << 20), &report);
  EXPECT_EQ(report.last_seq, 19u);
  EXPECT_EQ(report.records, 19u);
  EXPECT_EQ(report.torn_bytes_cut, kRecordHeaderSize + 64 - 5);
  EXPECT_EQ(fs::file_size(seg), size - (kRecordHeaderSize + 64));
  append_range(w, 20, 25);
  const ReadBack back = read_all(tmp.path());
  EXPECT_EQ(back.seqs, iota_seqs(1, 25));
  EXPECT_TRUE(back.corruptions.empty());
}

TEST(WalWriter, GarbageAtTheTailIsCutAndAppendsContinue) {
  TempDir tmp;
  {
    WalWriter w = WalWriter::open(small_segments(tmp.path(), 1 << 20));
    append_range(w, 1, 10);
  }
  const fs::path seg = segment_paths(tmp.path()).back();
  const auto size = fs::file_size(seg);
  std::mt19937 rng(7);
  std::string garbage(1000, '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  write_file(seg, read_file(seg) + garbage + std::string(4096, '\0'));
  RecoveryReport report;
  WalWriter w = WalWriter::open(small_segments(tmp.path(), 1 << 20), &report);
  EXPECT_EQ(report.last_seq, 10u);
  EXPECT_EQ(report.torn_bytes_cut, 1000u + 4096u);
  EXPECT_EQ(fs::file_size(seg), size);
  append_range(w, 11, 12);
  EXPECT_EQ(read_all(tmp.path()).seqs, iota_seqs(1, 12));
}

TEST(WalWriter, NewestSegmentWithoutAWholeRecordIsRemoved) {
  TempDir tmp;
  {
    WalWriter w = WalWriter::open(small_segments(tmp.path(), 1 << 20));
    append_range(w, 1, 10);
  }
  // A crash right after a rotation: a header and half a record.
  const std::string half = read_file(segment_paths(tmp.path()).back()).substr(0, 8 + 30);
  const fs::path newer = tmp.path() / segment_file_name(11);
  write_file(newer, half);
  RecoveryReport report;
  WalWriter w = WalWriter::open(small_segments(tmp.path(), 1 << 20), &report);
  EXPECT_EQ(report.last_seq, 10u);
  EXPECT_EQ(report.segments_removed, 1u);
  EXPECT_EQ(report.torn_bytes_cut, 30u);
  EXPECT_FALSE(fs::exists(newer));
  append_range(w, 11, 12);
  EXPECT_EQ(read_all(tmp.path()).seqs, iota_seqs(1, 12));
}

TEST(WalWriter, StrangersFileIsRefusedAndLeftAlone) {
  for (bool older : {false, true}) {
    SCOPED_TRACE(older ? "as an older segment" : "as the newest segment");
    TempDir tmp;
    const std::string text = "# not a WAL: somebody's notes, kept here by mistake\n";
    const fs::path stranger = tmp.path() / segment_file_name(1);
    write_file(stranger, text);
    if (older) write_file(tmp.path() / segment_file_name(100), make_segment_header().data());
    try {
      WalWriter::open(small_segments(tmp.path()));
      ADD_FAILURE() << "opened a directory holding a stranger's file";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("bad magic"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(stranger.string()), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_file(stranger), text);
  }
}

TEST(WalWriter, OtherFilesInTheDirectoryAreIgnored) {
  TempDir tmp;
  write_file(tmp.path() / "README", "hello");
  write_file(tmp.path() / "wal-1.log", "not ours by name");
  WalWriter w = WalWriter::open(small_segments(tmp.path()));
  append_range(w, 1, 3);
  EXPECT_EQ(read_all(tmp.path()).seqs, iota_seqs(1, 3));
}

TEST(WalWriter, OneWriterPerDirectory) {
  TempDir tmp;
  WalWriter w = WalWriter::open(small_segments(tmp.path()));
  try {
    WalWriter::open(small_segments(tmp.path()));
    ADD_FAILURE() << "a second writer opened the same directory";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EWOULDBLOCK) << e.what();
  }
}

TEST(WalWriter, DirectoryThatCannotBeCreatedIsAClearError) {
  TempDir tmp;
  write_file(tmp.path() / "file", "x");
  const fs::path dir = tmp.path() / "file" / "wal";
  try {
    WalWriter::open(small_segments(dir));
    ADD_FAILURE() << "opened a WAL under a regular file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOTDIR) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos) << e.what();
  }
}

// What open() throws in a directory the caller may not write, as `uid`.
// Root passes permission checks, so as root the open runs in a child that
// drops to nobody first.
TEST(WalWriter, UnwritableDirectoryIsAClearError) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "ro";
  fs::create_directory(dir);
  fs::permissions(tmp.path(),
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  auto try_open = [&]() -> std::string {
    try {
      WalWriter::open(small_segments(dir));
      return "opened";
    } catch (const std::system_error& e) {
      if (e.code().value() != EACCES) return std::string("wrong code: ") + e.what();
      if (std::string(e.what()).find(dir.string()) == std::string::npos)
        return std::string("no path: ") + e.what();
      return "";
    }
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(try_open(), "");
    fs::permissions(dir, fs::perms::owner_all);
    return;
  }
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  procmon::UniqueFd from_child(pipe_fds[0]), to_parent(pipe_fds[1]);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    from_child.reset();
    std::string result =
        (::setgid(65534) == 0 && ::setuid(65534) == 0) ? try_open() : "setuid failed";
    result += '\n';
    const ssize_t ignored = ::write(to_parent.get(), result.data(), result.size());
    (void)ignored;
    ::_exit(0);
  }
  to_parent.reset();
  std::string result;
  char buf[512];
  for (ssize_t n; (n = ::read(from_child.get(), buf, sizeof buf)) > 0;)
    result.append(buf, static_cast<std::size_t>(n));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(result, "\n");
}

TEST(WalWriter, RetentionBySizeKeepsTheNewestAndTheActiveSegment) {
  TempDir tmp;
  WalOptions o = small_segments(tmp.path(), 4096);
  o.retain_bytes = 16384;
  WalWriter w = WalWriter::open(o);
  append_range(w, 1, 2000, 100, 5);
  EXPECT_GT(w.counters().segments_removed, 0u);
  std::uint64_t total = 0;
  for (const auto& s : segment_paths(tmp.path())) total += fs::file_size(s);
  EXPECT_LE(total, 16384u + 4096u + 5 * 108);  // one segment may pass the bound by a batch
  const ReadBack back = read_all(tmp.path());
  ASSERT_FALSE(back.seqs.empty());
  EXPECT_EQ(back.seqs, iota_seqs(back.seqs.front(), 2000));  // contiguous to the end
  EXPECT_GT(back.seqs.front(), 1u);
  EXPECT_TRUE(back.corruptions.empty());
}

TEST(WalWriter, RetentionByAgeNeverRemovesTheActiveSegment) {
  TempDir tmp;
  WalOptions o = small_segments(tmp.path(), 4096);
  o.retain_age = std::chrono::hours(24);
  {
    WalWriter w = WalWriter::open(o);
    append_range(w, 1, 200, 100, 4);
    EXPECT_EQ(w.counters().segments_removed, 0u);
    // Age every segment, the active one too, then rotate: the aged ones go.
    const auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 8);
    const auto before = segment_paths(tmp.path());
    ASSERT_GT(before.size(), 3u);
    for (const auto& s : before) fs::last_write_time(s, old);
    std::uint64_t next = 201;
    auto rotate_once = [&] {
      for (const std::uint64_t r = w.counters().rotations; w.counters().rotations == r; ++next)
        append_range(w, next, next, 100);
    };
    rotate_once();
    const auto after = segment_paths(tmp.path());
    ASSERT_FALSE(after.empty());
    EXPECT_EQ(after.back(), tmp.path() / segment_file_name(next - 1));  // the active one
    for (const auto& s : after) EXPECT_GT(fs::last_write_time(s), old + std::chrono::hours(24));
    EXPECT_EQ(w.counters().segments_removed, before.size() + 1 - after.size());
    const ReadBack back = read_all(tmp.path());
    ASSERT_FALSE(back.seqs.empty());
    EXPECT_EQ(back.seqs, iota_seqs(back.seqs.front(), next - 1));
    // At open too, but never the newest segment, however old.
    rotate_once();
    ASSERT_GE(segment_paths(tmp.path()).size(), 2u);
    for (const auto& s : segment_paths(tmp.path())) fs::last_write_time(s, old);
  }
  RecoveryReport report;
  WalWriter w = WalWriter::open(o, &report);
  EXPECT_EQ(segment_paths(tmp.path()).size(), 1u);
  EXPECT_EQ(w.last_seq(), report.last_seq);
  EXPECT_GT(w.last_seq(), 200u);
}

TEST(WalWriter, SyncPoliciesCountTheirFsyncs) {
  for (SyncPolicy p : {SyncPolicy::kAlways, SyncPolicy::kBatch, SyncPolicy::kNever}) {
    SCOPED_TRACE(to_string(p));
    TempDir tmp;
    WalOptions o = small_segments(tmp.path(), 1 << 20);
    o.sync = p;
    WalWriter w = WalWriter::open(o);
    const std::uint64_t at_open = w.counters().fsyncs;  // a new segment is made durable at open
    std::vector<std::string> owned;
    for (std::uint64_t s = 1; s <= 30; ++s) owned.push_back(make_payload(s));
    for (std::size_t i = 0; i < 30; i += 10) {
      std::vector<std::string_view> batch(owned.begin() + static_cast<std::ptrdiff_t>(i),
                                          owned.begin() + static_cast<std::ptrdiff_t>(i + 10));
      ASSERT_TRUE(w.commit(batch));
    }
    EXPECT_EQ(w.counters().fsyncs - at_open, p == SyncPolicy::kNever ? 0u : 3u);
    EXPECT_TRUE(w.sync());  // pending only under kNever
    EXPECT_EQ(w.counters().fsyncs - at_open, p == SyncPolicy::kNever ? 1u : 3u);
  }
}

}  // namespace
}  // namespace procmond::wal
