#include "events/event_codec.hpp"

#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace procmond {
namespace {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "mixed-endian machines are not supported");

template <typename T>
std::make_unsigned_t<T> to_le(T v) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  if constexpr (std::endian::native == std::endian::big && sizeof(U) > 1) {
    U r = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i)
      r = static_cast<U>((r << 8) | ((u >> (8 * i)) & 0xff));
    return r;
  }
  return u;
}

// Writes T little-endian at p and advances it.
template <typename T>
void put(char*& p, T v) {
  auto le = to_le(v);
  std::memcpy(p, &le, sizeof le);
  p += sizeof le;
}

void put_string(char*& p, std::string_view s) {
  put(p, static_cast<std::uint32_t>(s.size()));
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p += s.size();
}

std::uint32_t checked_u32(std::size_t n) {
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("event field longer than 2^32-1");
  return static_cast<std::uint32_t>(n);
}

// Reads fields front to back; any read past the end sets it failed for good.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  template <typename T>
  T get() {
    using U = std::make_unsigned_t<T>;
    if (rest_.size() < sizeof(U)) {
      ok_ = false;
      return T{};
    }
    U u;
    std::memcpy(&u, rest_.data(), sizeof u);
    rest_.remove_prefix(sizeof u);
    return static_cast<T>(to_le(u));  // the swap is its own inverse
  }

  // A u32 length, then that many bytes (checked against what is left first).
  bool get_string(std::string& out) {
    auto n = get<std::uint32_t>();
    if (!ok_ || n > rest_.size()) return ok_ = false;
    out.assign(rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }

  std::size_t left() const { return rest_.size(); }
  bool ok() const { return ok_; }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

constexpr std::uint8_t kFlagCmdlineTruncated = 1;

}  // namespace

void encode(const Event& e, std::string& out) {
  std::size_t size = kEventFixedBytes + 4 + e.comm.size() + 4 + e.exe.size() + 4;
  for (const auto& arg : e.cmdline) size += 4 + arg.size();
  checked_u32(e.comm.size());
  checked_u32(e.exe.size());
  checked_u32(e.cmdline.size());
  for (const auto& arg : e.cmdline) checked_u32(arg.size());

  const std::size_t start = out.size();
  out.resize(start + size);
  char* p = out.data() + start;
  put(p, e.seq);
  put(p, static_cast<std::uint8_t>(kEventFormatVersion << 4 | static_cast<std::uint8_t>(e.kind)));
  put(p, static_cast<std::uint8_t>(e.source));
  put(p, e.changes);
  put(p, static_cast<std::uint8_t>(e.cmdline_truncated ? kFlagCmdlineTruncated : 0));
  put(p, e.time_ns);
  put(p, static_cast<std::int32_t>(e.pid));
  put(p, static_cast<std::int32_t>(e.ppid));
  put(p, static_cast<std::uint32_t>(e.uid));
  put(p, e.exit_status);
  put(p, e.threads);
  put(p, e.processes);
  put(p, e.start_time);
  put(p, e.utime);
  put(p, e.stime);
  put(p, e.rss_bytes);
  put_string(p, e.comm);
  put_string(p, e.exe);
  put(p, static_cast<std::uint32_t>(e.cmdline.size()));
  for (const auto& arg : e.cmdline) put_string(p, arg);
}

bool decode(std::string_view bytes, Event& out) {
  if (bytes.size() < kEventFixedBytes + 12) return false;
  Reader r(bytes);
  out.seq = r.get<std::uint64_t>();
  const auto version_kind = r.get<std::uint8_t>();
  const auto source = r.get<std::uint8_t>();
  out.changes = r.get<std::uint8_t>();
  const auto flags = r.get<std::uint8_t>();
  if (version_kind >> 4 != kEventFormatVersion) return false;
  if ((version_kind & 0x0f) > static_cast<std::uint8_t>(EventKind::kSynthetic)) return false;
  if (source > static_cast<std::uint8_t>(EventSource::kSynthetic)) return false;
  if ((out.changes & ~(kChangeExec | kChangeReparent)) != 0) return false;
  if ((flags & ~kFlagCmdlineTruncated) != 0) return false;
  out.kind = static_cast<EventKind>(version_kind & 0x0f);
  out.source = static_cast<EventSource>(source);
  out.cmdline_truncated = (flags & kFlagCmdlineTruncated) != 0;
  out.time_ns = r.get<std::int64_t>();
  out.pid = r.get<std::int32_t>();
  out.ppid = r.get<std::int32_t>();
  out.uid = r.get<std::uint32_t>();
  out.exit_status = r.get<std::int32_t>();
  out.threads = r.get<std::uint32_t>();
  out.processes = r.get<std::uint32_t>();
  out.start_time = r.get<std::uint64_t>();
  out.utime = r.get<std::uint64_t>();
  out.stime = r.get<std::uint64_t>();
  out.rss_bytes = r.get<std::uint64_t>();
  if (!r.get_string(out.comm) || !r.get_string(out.exe)) return false;
  const auto argc = r.get<std::uint32_t>();
  // Each argument takes at least its 4-byte length: a count past that is a
  // lie, refused before it sizes anything.
  if (!r.ok() || argc > r.left() / 4) return false;
  out.cmdline.resize(argc);
  for (auto& arg : out.cmdline)
    if (!r.get_string(arg)) return false;
  return r.ok() && r.left() == 0;
}

std::uint64_t peek_seq(std::string_view bytes) {
  if (bytes.size() < sizeof(std::uint64_t)) return 0;
  Reader r(bytes);
  return r.get<std::uint64_t>();
}

}  // namespace procmond
