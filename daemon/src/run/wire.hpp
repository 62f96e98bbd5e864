#pragma once
// The framing of procmond's socket (daemon/PROTOCOL.md): each frame is a u32
// little-endian length of what follows, a u8 type, then the body. Events are
// binary (daemon/src/events/EVENT_FORMAT.md); requests and control messages
// are JSON, since they are rare and must be easy to extend.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace procmond::wire {

enum class FrameType : std::uint8_t {
  kRequest = 1,  // client to daemon: a JSON object with "op"
  kEvent = 2,    // daemon to client: one encoded event
  kControl = 3,  // daemon to client: a JSON object with "type"
};

inline constexpr std::size_t kHeaderBytes = 5;
inline constexpr std::size_t kMaxRequestBytes = 64 << 10;
inline constexpr std::size_t kMaxFrameBytes = 16 << 20;

// Appends one frame to `out`.
void append_frame(std::string& out, FrameType type, std::string_view body);

struct Frame {
  FrameType type;
  std::string_view body;  // valid until the parser is fed again
};

// Frames out of a byte stream, whatever the reads' sizes.
class FrameParser {
 public:
  explicit FrameParser(std::size_t max_body = kMaxFrameBytes) : max_body_(max_body) {}
  void feed(std::string_view bytes);
  // The next whole frame, or nullopt when more bytes are needed. Throws
  // std::runtime_error on a frame longer than the limit or of no known type.
  std::optional<Frame> next();
  // Whether next() has a whole frame without more bytes.
  bool has_frame() const;

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t max_body_;
};

}  // namespace procmond::wire
