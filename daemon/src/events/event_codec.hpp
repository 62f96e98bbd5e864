#pragma once
// The binary form of one Event: the WAL record's payload and the wire frame's
// body. The layout is written down in EVENT_FORMAT.md; it starts with the seq
// (u64 little-endian) so that the WAL can read it without decoding the rest.

#include <cstdint>
#include <string>
#include <string_view>

#include "events/event.hpp"

namespace procmond {

// The version in the high nibble of byte 8 (the low nibble is the kind).
inline constexpr std::uint8_t kEventFormatVersion = 1;
// Bytes before the first string: seq to rss_bytes.
inline constexpr std::size_t kEventFixedBytes = 76;

// Appends one event's bytes to `out` (one resize, no allocation per field).
// Throws std::length_error for a string or argv longer than 2^32-1, which no
// process can produce through the collector's caps.
void encode(const Event& event, std::string& out);

// Decodes exactly one event: false for anything malformed (short, lengths past
// the end, an unknown version, kind, source or flag, bytes left over), and
// `out` is then unspecified. Reuses out's strings and argv.
bool decode(std::string_view bytes, Event& out);

// The seq of an encoded event (its first 8 bytes); 0 when shorter than that.
std::uint64_t peek_seq(std::string_view bytes);

}  // namespace procmond
