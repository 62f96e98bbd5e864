#include "wal/record_format.hpp"

#include <boost/crc.hpp>
#include <cstring>

namespace procmond::wal {
namespace {

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

void store_u32_le(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

std::uint32_t load_u32_le(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint64_t load_u64_le(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

SegmentHeader make_segment_header() {
  SegmentHeader h{};
  std::memcpy(h.data(), kMagic.data(), kMagic.size());
  h[kMagic.size()] = static_cast<char>(kVersion);
  return h;
}

const char* check_segment_header(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderSize) return "segment header cut short";
  if (bytes.substr(0, kMagic.size()) != kMagic) return "not a procmond WAL segment (bad magic)";
  if (static_cast<std::uint8_t>(bytes[kMagic.size()]) != kVersion)
    return "unsupported WAL segment version";
  return nullptr;
}

std::uint32_t record_crc(const char* length_bytes, std::string_view payload) {
  Crc32c crc;
  crc.process_bytes(length_bytes, 4);
  crc.process_bytes(payload.data(), payload.size());
  return crc.checksum();
}

RecordHeader make_record_header(std::string_view payload) {
  RecordHeader h{};
  store_u32_le(h.data(), static_cast<std::uint32_t>(payload.size()));
  store_u32_le(h.data() + 4, record_crc(h.data(), payload));
  return h;
}

DecodedRecord decode_record(std::string_view bytes) {
  DecodedRecord r;
  if (bytes.size() < kRecordHeaderSize) {
    r.size = kRecordHeaderSize;
    return r;
  }
  const std::uint32_t length = load_u32_le(bytes.data());
  if (length < kMinPayload || length > kMaxPayload) {
    r.status = RecordStatus::kCorrupt;
    r.why = "implausible record length";
    return r;
  }
  r.size = kRecordHeaderSize + length;
  if (bytes.size() < r.size) return r;
  const std::string_view payload = bytes.substr(kRecordHeaderSize, length);
  if (record_crc(bytes.data(), payload) != load_u32_le(bytes.data() + 4)) {
    r.status = RecordStatus::kCorrupt;
    r.why = "checksum mismatch";
    return r;
  }
  r.status = RecordStatus::kWhole;
  r.payload = payload;
  r.seq = load_u64_le(payload.data());
  return r;
}

std::size_t find_next_record(std::string_view bytes, std::size_t from, std::uint64_t after_seq) {
  for (std::size_t at = from; at + kRecordHeaderSize + kMinPayload <= bytes.size(); ++at) {
    const DecodedRecord r = decode_record(bytes.substr(at));
    if (r.status == RecordStatus::kWhole && r.seq > after_seq) return at;
  }
  return kNotFound;
}

}  // namespace procmond::wal
