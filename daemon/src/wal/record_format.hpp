#pragma once
// The bytes of a segment (FORMAT.md): its header, a record's framing and
// checksum, and the scan that finds whole records. Shared by the writer's
// recovery and the readers.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace procmond::wal {

inline constexpr std::string_view kMagic = "PMWAL";
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 8;
inline constexpr std::size_t kRecordHeaderSize = 8;  // u32 length, u32 crc
inline constexpr std::size_t kMinPayload = 8;        // the seq
inline constexpr std::size_t kMaxPayload = 1 << 20;

using SegmentHeader = std::array<char, kSegmentHeaderSize>;
using RecordHeader = std::array<char, kRecordHeaderSize>;

SegmentHeader make_segment_header();
// nullptr when `bytes` (at least kSegmentHeaderSize) is our header, else why not.
const char* check_segment_header(std::string_view bytes);

// CRC32C over the 4 length bytes, then the payload.
std::uint32_t record_crc(const char* length_bytes, std::string_view payload);
RecordHeader make_record_header(std::string_view payload);
std::uint64_t load_u64_le(const char* p);
std::uint32_t load_u32_le(const char* p);

enum class RecordStatus {
  kWhole,
  kIncomplete,  // plausible so far, but the bytes end first
  kCorrupt,
};

struct DecodedRecord {
  RecordStatus status = RecordStatus::kIncomplete;
  std::string_view payload;   // kWhole
  std::uint64_t seq = 0;      // kWhole
  std::size_t size = 0;       // kWhole: header + payload; kIncomplete: bytes needed (0: unknown)
  const char* why = nullptr;  // kCorrupt
};

// What starts at bytes[0].
DecodedRecord decode_record(std::string_view bytes);

inline constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);
// The first offset >= `from` in `bytes` where a whole record with seq >
// `after_seq` starts (the resync after a corrupt record), or kNotFound.
std::size_t find_next_record(std::string_view bytes, std::size_t from, std::uint64_t after_seq);

}  // namespace procmond::wal
