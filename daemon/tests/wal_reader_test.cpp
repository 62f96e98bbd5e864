// WalReader: corruption reported and skipped, reads from a seq, bounds,
// resuming at the end, and reading while a writer appends on another thread.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "wal/segment_files.hpp"
#include "wal_test_support.hpp"

namespace procmond::wal {
namespace {

using namespace testing;
namespace fs = std::filesystem;

constexpr std::size_t kPayload = 64;
constexpr std::size_t kRecord = kRecordHeaderSize + kPayload;

// Offset of record `seq` in a segment that starts at seq `first`, all kPayload bytes.
std::uint64_t record_offset(std::uint64_t seq, std::uint64_t first = 1) {
  return kSegmentHeaderSize + (seq - first) * kRecord;
}

fs::path write_log(const fs::path& dir, std::uint64_t last, std::uint64_t segment_bytes = 1 << 20) {
  WalOptions o;
  o.dir = dir;
  o.segment_bytes = segment_bytes;
  WalWriter w = WalWriter::open(o);
  append_range(w, 1, last, kPayload, 3);
  return segment_paths(dir).front();
}

void flip_byte(const fs::path& file, std::uint64_t offset, char mask) {
  std::string bytes = read_file(file);
  bytes.at(offset) ^= mask;
  write_file(file, bytes);
}

std::vector<std::uint64_t> without(std::vector<std::uint64_t> v, std::uint64_t seq) {
  std::erase(v, seq);
  return v;
}

struct Flip {
  const char* name;
  std::uint64_t within;  // offset inside record 10
  char mask;
};

class WalCorruptRecord : public ::testing::TestWithParam<Flip> {};

TEST_P(WalCorruptRecord, IsReportedWithSegmentAndOffsetAndTheRestIsRead) {
  TempDir tmp;
  const fs::path seg = write_log(tmp.path(), 30);
  flip_byte(seg, record_offset(10) + GetParam().within, GetParam().mask);

  const ReadBack back = read_all(tmp.path());
  EXPECT_EQ(back.seqs, without(iota_seqs(1, 30), 10));
  EXPECT_TRUE(back.payloads_ok);
  ASSERT_EQ(back.corruptions.size(), 1u);
  EXPECT_EQ(back.corruptions[0].segment, seg);
  EXPECT_EQ(back.corruptions[0].offset, record_offset(10));
  EXPECT_EQ(back.corruptions[0].bytes, kRecord);

  // Recovery keeps it in place (it is not the tail) and continues after 30.
  RecoveryReport report;
  WalOptions o;
  o.dir = tmp.path();
  WalWriter w = WalWriter::open(o, &report);
  EXPECT_EQ(report.last_seq, 30u);
  EXPECT_EQ(report.records, 29u);
  EXPECT_EQ(report.torn_bytes_cut, 0u);
  ASSERT_EQ(report.corruptions.size(), 1u);
  EXPECT_EQ(report.corruptions[0].offset, record_offset(10));
}

INSTANTIATE_TEST_SUITE_P(Flips, WalCorruptRecord,
                         ::testing::Values(Flip{"PayloadByte", kRecordHeaderSize + 20, 0x01},
                                           Flip{"SeqByte", kRecordHeaderSize, 0x04},
                                           Flip{"LengthLowByte", 0,
                                                0x01},  // plausible: caught by the CRC
                                           Flip{"LengthHighByte", 3, 0x40},  // implausible
                                           Flip{"ChecksumByte", 5, 0x10}),
                         [](const auto& flip) { return std::string(flip.param.name); });

TEST(WalReader, CorruptTailOfAnOlderSegmentIsSkippedToTheNext) {
  TempDir tmp;
  write_log(tmp.path(), 200, 2048);
  const auto segments = segment_paths(tmp.path());
  ASSERT_GT(segments.size(), 2u);
  // The first segment's last record loses its last byte: nothing whole follows in it.
  const auto size = fs::file_size(segments[0]);
  fs::resize_file(segments[0], size - 1);
  const std::uint64_t lost = *parse_segment_file_name(segments[1].filename().string()) - 1;
  const ReadBack back = read_all(tmp.path());
  EXPECT_EQ(back.seqs, without(iota_seqs(1, 200), lost));
  ASSERT_EQ(back.corruptions.size(), 1u);
  EXPECT_EQ(back.corruptions[0].segment, segments[0]);
  EXPECT_EQ(back.corruptions[0].offset, size - kRecord);
  EXPECT_EQ(back.corruptions[0].bytes, kRecord - 1);
}

TEST(WalReader, StrangerSegmentIsReportedAndSkipped) {
  TempDir tmp;
  write_log(tmp.path(), 10);
  write_file(tmp.path() / segment_file_name(5), "PKZIP, not ours at all");
  const ReadBack back = read_all(tmp.path());
  EXPECT_EQ(back.seqs, iota_seqs(1, 10));
  ASSERT_EQ(back.corruptions.size(), 1u);
  EXPECT_EQ(back.corruptions[0].segment, tmp.path() / segment_file_name(5));
}

TEST(WalReader, FromASeqInTheMiddleOfASegment) {
  TempDir tmp;
  write_log(tmp.path(), 300, 2048);
  ASSERT_GT(segment_paths(tmp.path()).size(), 5u);
  for (std::uint64_t from : {1ull, 37ull, 150ull, 299ull, 300ull}) {
    SCOPED_TRACE(from);
    EXPECT_EQ(read_all(tmp.path(), from).seqs, iota_seqs(from, 300));
  }
  EXPECT_EQ(read_all(tmp.path(), 0).seqs, iota_seqs(1, 300));
  EXPECT_TRUE(read_all(tmp.path(), 301).seqs.empty());
}

TEST(WalReader, BatchesRespectMaxBytesAndTheUpperBound) {
  TempDir tmp;
  write_log(tmp.path(), 100);
  WalReader r(tmp.path(), 0);
  std::vector<std::string_view> batch;
  std::vector<std::uint64_t> seen;
  while (r.next_batch(batch, 60, 10 * kPayload)) {
    EXPECT_LE(batch.size(), 10u);
    for (auto p : batch) seen.push_back(seq_of(p));
  }
  EXPECT_EQ(seen, iota_seqs(1, 60));
  // A payload larger than max_bytes still comes, alone.
  ASSERT_TRUE(r.next_batch(batch, WalReader::kNoLimit, 1));
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(seq_of(batch[0]), 61u);
}

TEST(WalReader, ResumesAfterTheEndWithoutGapOrDuplicate) {
  TempDir tmp;
  WalOptions o;
  o.dir = tmp.path();
  o.segment_bytes = 2048;
  WalWriter w = WalWriter::open(o);
  WalReader r(tmp.path(), 0);
  std::vector<std::string_view> batch;
  std::vector<std::uint64_t> seen;
  std::uint64_t next = 1;
  for (int round = 0; round < 20; ++round) {
    const std::uint64_t last = next + static_cast<std::uint64_t>(round * 7);  // some rounds rotate
    append_range(w, next, last, kPayload, 4);
    next = last + 1;
    while (r.next_batch(batch, w.last_seq()))
      for (auto p : batch) seen.push_back(seq_of(p));
    ASSERT_EQ(seen, iota_seqs(1, w.last_seq()));
    EXPECT_FALSE(r.next_batch(batch, w.last_seq()));
    EXPECT_TRUE(batch.empty());
  }
  EXPECT_GT(w.counters().rotations, 5u);
  EXPECT_TRUE(r.corruptions().empty());
}

// The daemon's shape: a writer thread appends and publishes its last seq; a
// reader thread follows it with that bound.
TEST(WalReader, FollowsAWriterOnAnotherThread) {
  TempDir tmp;
  constexpr std::uint64_t kLast = 20000;
  std::atomic<std::uint64_t> published{0};
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    WalOptions o;
    o.dir = tmp.path();
    o.segment_bytes = 64 << 10;
    o.sync = SyncPolicy::kNever;
    WalWriter w = WalWriter::open(o);
    std::vector<std::string> owned;
    std::vector<std::string_view> views;
    for (std::uint64_t s = 1; s <= kLast;) {
      owned.clear();
      views.clear();
      const std::size_t n = 1 + s % 13;
      for (std::size_t i = 0; i < n && s <= kLast; ++i, ++s)
        owned.push_back(make_payload(s, 8 + s % 300));
      for (const auto& p : owned) views.push_back(p);
      if (!w.append(views)) {
        writer_failed = true;
        break;
      }
      published.store(w.last_seq(), std::memory_order_release);
    }
  });
  WalReader r(tmp.path(), 0);
  std::vector<std::string_view> batch;
  std::uint64_t expected = 1;
  bool payloads_ok = true;
  while (expected <= kLast && !writer_failed) {
    const std::uint64_t bound = published.load(std::memory_order_acquire);
    if (!r.next_batch(batch, bound, 4096)) {
      std::this_thread::yield();
      continue;
    }
    for (auto p : batch) {
      if (seq_of(p) != expected) break;
      if (p != make_payload(expected, p.size()) || p.size() != 8 + expected % 300)
        payloads_ok = false;
      ++expected;
    }
    if (seq_of(batch.back()) != expected - 1) break;  // a gap or a duplicate
  }
  writer.join();
  EXPECT_FALSE(writer_failed);
  EXPECT_EQ(expected, kLast + 1);
  EXPECT_TRUE(payloads_ok);
  EXPECT_TRUE(r.corruptions().empty());
}

}  // namespace
}  // namespace procmond::wal
