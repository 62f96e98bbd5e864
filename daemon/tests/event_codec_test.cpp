#include "events/event_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace procmond {
namespace {

Event full_event(EventKind kind) {
  Event e;
  e.seq = 0x0102030405060708ull;
  e.time_ns = 1'796'786'114'123'456'789;
  e.kind = kind;
  e.source = EventSource::kConnector;
  e.changes = kind == EventKind::kChanged ? (kChangeExec | kChangeReparent) : 0;
  e.pid = 4242;
  e.ppid = 1;
  e.uid = 1000;
  e.start_time = 123456789;
  e.exit_status = kind == EventKind::kExited ? 256 : -1;
  e.threads = 7;
  e.utime = 11;
  e.stime = 22;
  e.rss_bytes = 1ull << 40;
  e.processes = kind == EventKind::kSnapshot ? 10000 : 0;
  e.comm = "bash";
  e.exe = "/usr/bin/bash";
  e.cmdline = {"bash", "-c", "echo 'a\nb'", "", std::string("nul\0inside", 10), "\xff\xfe"};
  e.cmdline_truncated = true;
  return e;
}

bool same(const Event& a, const Event& b) {
  return a.seq == b.seq && a.time_ns == b.time_ns && a.kind == b.kind && a.source == b.source &&
         a.changes == b.changes && a.pid == b.pid && a.ppid == b.ppid && a.uid == b.uid &&
         a.start_time == b.start_time && a.exit_status == b.exit_status && a.threads == b.threads &&
         a.utime == b.utime && a.stime == b.stime && a.rss_bytes == b.rss_bytes &&
         a.processes == b.processes && a.comm == b.comm && a.exe == b.exe &&
         a.cmdline == b.cmdline && a.cmdline_truncated == b.cmdline_truncated;
}

class EveryKind : public ::testing::TestWithParam<EventKind> {};
INSTANTIATE_TEST_SUITE_P(Kinds, EveryKind,
                         ::testing::Values(EventKind::kSnapshot, EventKind::kStarted,
                                           EventKind::kExited, EventKind::kChanged,
                                           EventKind::kSynthetic),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_P(EveryKind, RoundTrips) {
  const Event e = full_event(GetParam());
  std::string bytes;
  encode(e, bytes);
  Event back;
  ASSERT_TRUE(decode(bytes, back));
  EXPECT_TRUE(same(e, back));
  EXPECT_EQ(peek_seq(bytes), e.seq);
}

TEST(EventCodec, ADefaultEventRoundTripsWithUnknownUid) {
  Event e;
  std::string bytes;
  encode(e, bytes);
  EXPECT_EQ(bytes.size(), kEventFixedBytes + 12);
  Event back = full_event(EventKind::kChanged);  // decode must overwrite every field
  ASSERT_TRUE(decode(bytes, back));
  EXPECT_TRUE(same(e, back));
  EXPECT_EQ(back.uid, static_cast<uid_t>(-1));
}

TEST(EventCodec, BeginsWithTheSeqLittleEndianThenVersionAndKind) {
  Event e = full_event(EventKind::kExited);
  std::string bytes;
  encode(e, bytes);
  const unsigned char expect[] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x12};
  ASSERT_GE(bytes.size(), sizeof expect);
  EXPECT_EQ(std::memcmp(bytes.data(), expect, sizeof expect), 0);
}

// The example of EVENT_FORMAT.md, byte for byte.
TEST(EventCodec, MatchesTheDocumentedExample) {
  Event e;
  e.seq = 1;
  e.kind = EventKind::kStarted;
  e.pid = 7;
  e.ppid = 1;
  e.uid = 0;
  e.comm = "sh";
  e.cmdline = {"sh"};
  std::string expect = std::string("\x01\0\0\0\0\0\0\0", 8) + std::string("\x11\0\0\0", 4) +
                       std::string(8, '\0') + std::string("\x07\0\0\0\x01\0\0\0", 8) +
                       std::string("\0\0\0\0\xff\xff\xff\xff", 8) + std::string(8 + 32, '\0') +
                       std::string("\x02\0\0\0sh", 6) + std::string(4, '\0') +
                       std::string("\x01\0\0\0\x02\0\0\0sh", 10);
  std::string bytes;
  encode(e, bytes);
  EXPECT_EQ(bytes, expect);
}

TEST(EventCodec, AppendsSoEventsCanBeConcatenated) {
  std::string bytes = "prefix";
  Event a = full_event(EventKind::kStarted), b = full_event(EventKind::kExited);
  encode(a, bytes);
  const std::size_t first = bytes.size();
  encode(b, bytes);
  Event back;
  ASSERT_TRUE(decode(std::string_view(bytes).substr(6, first - 6), back));
  EXPECT_TRUE(same(a, back));
  ASSERT_TRUE(decode(std::string_view(bytes).substr(first), back));
  EXPECT_TRUE(same(b, back));
}

TEST(EventCodec, PeekSeqOfShortInputIsZero) {
  EXPECT_EQ(peek_seq(""), 0u);
  EXPECT_EQ(peek_seq("1234567"), 0u);
  EXPECT_EQ(peek_seq(std::string_view("\x01\0\0\0\0\0\0\0", 8)), 1u);
}

TEST(EventCodec, EveryTruncationAndEveryExtraByteIsRefused) {
  std::string bytes;
  encode(full_event(EventKind::kChanged), bytes);
  Event out;
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n), out)) << "prefix of " << n;
  EXPECT_FALSE(decode(bytes + '\0', out));
}

// Patches a little-endian u32 at `offset`.
void put_u32(std::string& bytes, std::size_t offset, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[offset + i] = static_cast<char>(v >> (8 * i));
}

TEST(EventCodec, HostileLengthsAndCountsAreRefused) {
  Event e;
  e.comm = "c";
  e.exe = "e";
  e.cmdline = {"a"};
  std::string good;
  encode(e, good);
  Event out;
  ASSERT_TRUE(decode(good, out));
  const std::size_t comm_len = kEventFixedBytes, exe_len = comm_len + 5, argc = exe_len + 5,
                    arg_len = argc + 4;
  for (std::uint32_t v : {2u, 0x7fffffffu, 0xffffffffu}) {
    std::string b = good;
    put_u32(b, comm_len, v);
    EXPECT_FALSE(decode(b, out)) << "comm length " << v;
    b = good;
    put_u32(b, exe_len, v);
    EXPECT_FALSE(decode(b, out)) << "exe length " << v;
    b = good;
    put_u32(b, argc, v);  // a huge count must not size a vector
    EXPECT_FALSE(decode(b, out)) << "argc " << v;
    b = good;
    put_u32(b, arg_len, v);
    EXPECT_FALSE(decode(b, out)) << "arg length " << v;
  }
}

TEST(EventCodec, UnknownVersionKindSourceOrFlagsAreRefused) {
  std::string good;
  encode(full_event(EventKind::kStarted), good);
  Event out;
  auto patched = [&](std::size_t at, char v) {
    std::string b = good;
    b[at] = v;
    return b;
  };
  EXPECT_FALSE(decode(patched(8, 0x21), out));  // version 2
  EXPECT_FALSE(decode(patched(8, 0x01), out));  // version 0
  EXPECT_FALSE(decode(patched(8, 0x15), out));  // kind 5
  EXPECT_FALSE(decode(patched(9, 3), out));     // source 3
  EXPECT_FALSE(decode(patched(10, 4), out));    // change bit 4
  EXPECT_FALSE(decode(patched(11, 2), out));    // flag bit 2
  EXPECT_TRUE(decode(patched(8, 0x14), out));   // synthetic is a kind
}

// Random bytes and random mutations of a valid encoding: decode must answer
// (true or false) without reading past the input; ASan is the judge there.
TEST(EventCodec, FuzzedInputNeverCrashes) {
  std::mt19937_64 rng(12345);
  std::string good;
  encode(full_event(EventKind::kChanged), good);
  Event out;
  for (int round = 0; round < 20000; ++round) {
    std::string b;
    if (round % 2 == 0) {
      b.resize(rng() % 200);
      for (auto& c : b) c = static_cast<char>(rng());
      if (b.size() > 8) b[8] = static_cast<char>(0x10 | (rng() % 5));  // get past the header
    } else {
      b = good;
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
        b[rng() % b.size()] = static_cast<char>(rng());
      b.resize(rng() % (b.size() + 1));
    }
    if (decode(b, out)) {
      std::string again;
      encode(out, again);
      EXPECT_EQ(again, b);  // whatever decodes, re-encodes to the same bytes
    }
  }
}

}  // namespace
}  // namespace procmond
