// The WAL's bytes and pure choices: framing, checksum, resync, names, policy
// parsing, and which segments retention picks.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "wal/record_format.hpp"
#include "wal/retention.hpp"
#include "wal/segment_files.hpp"
#include "wal/sync_policy.hpp"
#include "wal_test_support.hpp"

namespace procmond::wal {
namespace {

using testing::make_payload;

std::string encode(std::string_view payload) {
  const RecordHeader h = make_record_header(payload);
  return std::string(h.data(), h.size()) + std::string(payload);
}

TEST(WalFormat, ChecksumIsCrc32cOverLengthThenPayload) {
  // The CRC32C check value: CRC32C("123456789") = 0xE3069283.
  EXPECT_EQ(record_crc("1234", "56789"), 0xE3069283u);
}

TEST(WalFormat, WholeRecordDecodes) {
  const std::string p = make_payload(42, 100);
  const std::string bytes = encode(p) + "trailing";
  const DecodedRecord r = decode_record(bytes);
  ASSERT_EQ(r.status, RecordStatus::kWhole);
  EXPECT_EQ(r.seq, 42u);
  EXPECT_EQ(r.payload, p);
  EXPECT_EQ(r.size, kRecordHeaderSize + 100);
  EXPECT_EQ(load_u32_le(bytes.data()), 100u);
}

TEST(WalFormat, CutRecordIsIncompleteWithTheSizeItNeeds) {
  const std::string bytes = encode(make_payload(1, 100));
  EXPECT_EQ(decode_record(bytes.substr(0, 3)).status, RecordStatus::kIncomplete);
  const DecodedRecord r = decode_record(bytes.substr(0, 50));
  EXPECT_EQ(r.status, RecordStatus::kIncomplete);
  EXPECT_EQ(r.size, bytes.size());
}

TEST(WalFormat, ImplausibleLengthsAreCorrupt) {
  std::string zeros(64, '\0');
  EXPECT_EQ(decode_record(zeros).status, RecordStatus::kCorrupt);
  std::string huge = encode(make_payload(1, 16));
  huge[3] = '\x10';  // length 0x10000010 > 1 MiB
  EXPECT_EQ(decode_record(huge).status, RecordStatus::kCorrupt);
}

TEST(WalFormat, FlippedLengthOrPayloadFailsTheChecksum) {
  const std::string good = encode(make_payload(7, 64));
  std::string length_flip = good + std::string(8, 'x');  // still long enough to be whole
  length_flip[0] ^= 0x01;  // 64 -> 65: plausible, but the CRC covers it
  EXPECT_EQ(decode_record(length_flip).status, RecordStatus::kCorrupt);
  std::string payload_flip = good;
  payload_flip[20] ^= 0x40;
  EXPECT_EQ(decode_record(payload_flip).status, RecordStatus::kCorrupt);
}

TEST(WalFormat, ResyncFindsTheNextWholeRecordWithAGreaterSeq) {
  const std::string garbage = "\x13\x00\x00\x00garbage that is not a record";
  const std::string bytes = encode(make_payload(3)) + garbage + encode(make_payload(4));
  const std::size_t second = encode(make_payload(3)).size() + garbage.size();
  EXPECT_EQ(find_next_record(bytes, 1, 3), second);
  EXPECT_EQ(find_next_record(bytes, 1, 4), kNotFound);  // seq 4 is not past 4
  EXPECT_EQ(find_next_record(bytes, second + 1, 0), kNotFound);
}

TEST(WalFormat, SegmentHeaderIsCheckedForMagicAndVersion) {
  const SegmentHeader h = make_segment_header();
  std::string bytes(h.data(), h.size());
  EXPECT_EQ(bytes.substr(0, 5), "PMWAL");
  EXPECT_EQ(check_segment_header(bytes), nullptr);
  EXPECT_NE(check_segment_header(bytes.substr(0, 4)), nullptr);
  std::string version = bytes;
  version[5] = 2;
  EXPECT_NE(check_segment_header(version), nullptr);
  EXPECT_NE(check_segment_header("PKZIP\x01\x00\x00"), nullptr);
}

TEST(WalFormat, SegmentNamesRoundTripAndOthersAreIgnored) {
  EXPECT_EQ(segment_file_name(42), "wal-00000000000000000042.log");
  EXPECT_EQ(parse_segment_file_name(segment_file_name(42)), 42u);
  EXPECT_EQ(parse_segment_file_name(segment_file_name(~0ull)), ~0ull);
  EXPECT_FALSE(parse_segment_file_name("wal-42.log"));
  EXPECT_FALSE(parse_segment_file_name("wal-0000000000000000004x.log"));
  EXPECT_FALSE(parse_segment_file_name("wal-99999999999999999999.log"));  // past u64
  EXPECT_FALSE(parse_segment_file_name("wal-00000000000000000042.log.tmp"));
}

TEST(WalFormat, SyncPolicyParsesItsOwnNames) {
  for (SyncPolicy p : {SyncPolicy::kAlways, SyncPolicy::kBatch, SyncPolicy::kNever})
    EXPECT_EQ(parse_sync_policy(to_string(p)), p);
  EXPECT_FALSE(parse_sync_policy("sometimes"));
  EXPECT_FALSE(parse_sync_policy(""));
}

TEST(WalRetention, RemovesTheOldestUntilTheSizeFits) {
  const auto now = std::filesystem::file_time_type::clock::now();
  const std::vector<SegmentUsage> closed{{100, now}, {100, now}, {100, now}};
  EXPECT_EQ(segments_to_remove(closed, 50, 1000, std::chrono::hours(1), now), 0u);
  EXPECT_EQ(segments_to_remove(closed, 50, 250, std::chrono::hours(1), now), 1u);
  EXPECT_EQ(segments_to_remove(closed, 50, 150, std::chrono::hours(1), now), 2u);
  // Never the active segment, even when it alone is over the bound.
  EXPECT_EQ(segments_to_remove(closed, 5000, 10, std::chrono::hours(1), now), 3u);
}

TEST(WalRetention, RemovesTooOldSegmentsButOnlyFromTheFront) {
  const auto now = std::filesystem::file_time_type::clock::now();
  const auto old = now - std::chrono::hours(48);
  const std::vector<SegmentUsage> closed{{100, old}, {100, old}, {100, now}, {100, old}};
  EXPECT_EQ(segments_to_remove(closed, 0, 1 << 20, std::chrono::hours(24), now), 2u);
}

}  // namespace
}  // namespace procmond::wal
