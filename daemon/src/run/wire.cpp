#include "wire.hpp"

#include <stdexcept>

namespace procmond::wire {

void append_frame(std::string& out, FrameType type, std::string_view body) {
  const auto n = static_cast<std::uint32_t>(body.size() + 1);
  const char header[kHeaderBytes] = {static_cast<char>(n), static_cast<char>(n >> 8),
                                     static_cast<char>(n >> 16), static_cast<char>(n >> 24),
                                     static_cast<char>(type)};
  out.append(header, kHeaderBytes);
  out.append(body);
}

void FrameParser::feed(std::string_view bytes) {
  // Drop what was consumed before appending, so the buffer holds at most one
  // partial frame plus one read.
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

bool FrameParser::has_frame() const {
  if (buf_.size() - pos_ < kHeaderBytes) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  const std::uint32_t n = p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
  return buf_.size() - pos_ >= 4 + std::size_t{n};
}

std::optional<Frame> FrameParser::next() {
  if (buf_.size() - pos_ < kHeaderBytes) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  const std::uint32_t n = p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
  if (n == 0 || n - 1 > max_body_)
    throw std::runtime_error("frame of " + std::to_string(n) + " bytes is past the limit");
  const auto type = static_cast<FrameType>(p[4]);
  if (type != FrameType::kRequest && type != FrameType::kEvent && type != FrameType::kControl)
    throw std::runtime_error("frame of unknown type " + std::to_string(p[4]));
  if (buf_.size() - pos_ < 4 + std::size_t{n}) return std::nullopt;
  Frame f{type, std::string_view(buf_).substr(pos_ + kHeaderBytes, n - 1)};
  pos_ += 4 + std::size_t{n};
  return f;
}

}  // namespace procmond::wire
