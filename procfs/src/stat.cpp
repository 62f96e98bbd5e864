#include "procfs/stat.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "procfs/fields.hpp"

namespace procfs {
namespace {

// The longest comm the kernel prints in stat (kernel threads' full names).
constexpr std::size_t kMaxComm = 64;

// 0x80 in each byte of x that is 0, nothing elsewhere (no borrow between
// bytes, unlike the quicker "has a zero" trick).
inline std::uint64_t zero_bytes(std::uint64_t x) {
  constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full;
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// Reads the run of digits (up to 8) that starts the 8 bytes at p: returns how
// many, and their value in `value`. SWAR: the tail's addresses have 14-15
// digits, and a digit at a time is a chain of dependent multiplies (it
// doubled the cost of a whole line).
inline int leading_digits(const char* p, std::uint64_t& value) {
  std::uint64_t chunk;
  std::memcpy(&chunk, p, sizeof chunk);
  constexpr std::uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ull, kZeros = 0x3030303030303030ull;
  // A digit 0x30-0x39 has high nibble 3, still 3 after adding 6. (A carry
  // out of a byte >= 0xFA only reaches bytes after a non-digit: unread.)
  const std::uint64_t digits = zero_bytes((chunk & kHigh) ^ kZeros) &
                               zero_bytes(((chunk + 0x0606060606060606ull) & kHigh) ^ kZeros);
  const std::uint64_t non_digits = ~digits & 0x8080808080808080ull;
  const int n = non_digits ? std::countr_zero(non_digits) / 8 : 8;
  if (n == 0) return 0;
  // Little-endian: the first digit is the low byte. Shift the n digits to
  // the top and pad below with '0', then Lemire's 8-digit parse.
  if (n < 8) chunk = (chunk << (8 * (8 - n))) | (kZeros >> (8 * n));
  std::uint64_t v = chunk - kZeros;
  v = (v * 10) + (v >> 8);
  value = (((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
           (((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
          32;
  return n;
}

// Reads one unsigned decimal field ending at a space, newline or the end.
// Advances `p` past the field and its separator. kLong: 8 digits a step, for
// the addresses (for the short fields 1-24 hold, a byte loop is quicker).
template <bool kLong = false>
bool scan_unsigned(const char*& p, const char* end, std::uint64_t& out) {
  static constexpr std::uint64_t kPow10[] = {1,      10,      100,      1000,     10000,
                                             100000, 1000000, 10000000, 100000000};
  std::uint64_t v = 0;
  const char* start = p;
  if constexpr (kLong && std::endian::native == std::endian::little) {
    for (std::uint64_t run = 0; end - p >= 8;) {
      const int n = leading_digits(p, run);
      if (n == 0) break;  // `run` still holds the last step's 8 digits: not to be added twice
      if (__builtin_mul_overflow(v, kPow10[n], &v) || __builtin_add_overflow(v, run, &v))
        return false;
      p += n;
      if (n < 8) break;
    }
  }
  for (; p < end && *p >= '0' && *p <= '9'; ++p) {
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, *p - '0', &v)) return false;
  }
  if (p == start || (p < end && *p != ' ' && *p != '\n')) return false;
  if (p < end) ++p;
  out = v;
  return true;
}

// Skips one field of any content (some are negative) and its separator.
bool skip_field(const char*& p, const char* end) {
  const char* start = p;
  while (p < end && *p != ' ' && *p != '\n') ++p;
  if (p == start) return false;
  if (p < end) ++p;
  return true;
}

// Advances `p` past `n` more spaces, 8 bytes a time: the tail's fields 25
// and 29-47 are skipped whole (a byte-at-a-time loop over them cost as much
// as fields 1-24). False when the line ends (a newline, or its end) first.
bool skip_fields(const char*& p, const char* end, int n) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kSpaces = 0x2020202020202020ull, kNewlines = 0x0a0a0a0a0a0a0a0aull;
    for (; end - p >= 8; p += 8) {
      std::uint64_t chunk;
      std::memcpy(&chunk, p, sizeof chunk);
      std::uint64_t spaces = zero_bytes(chunk ^ kSpaces);
      const std::uint64_t newlines = zero_bytes(chunk ^ kNewlines);
      if (newlines) spaces &= (newlines & (~newlines + 1)) - 1;  // those before the newline
      for (; spaces; spaces &= spaces - 1)                       // each space, lowest first
        if (--n == 0) {
          p += std::countr_zero(spaces) / 8 + 1;
          return true;
        }
      if (newlines) return false;
    }
  }
  for (; p < end && *p != '\n'; ++p)
    if (*p == ' ' && --n == 0) {
      ++p;
      return true;
    }
  return false;
}

// Fields 26-28 and 48-51, zeroed first: a line may end anywhere past field 24
// (older kernels print fewer fields). False when one there is not a number.
bool parse_exec_addresses(const char* p, const char* end, StatFields& out) {
  out.start_code = out.end_code = out.start_stack = 0;
  out.arg_start = out.arg_end = out.env_start = out.env_end = 0;
  auto at_end = [&] { return p == end || *p == '\n'; };
  if (at_end() || !skip_fields(p, end, 1)) return true;  // 25
  for (std::uint64_t* field : {&out.start_code, &out.end_code, &out.start_stack}) {
    if (at_end()) return true;
    if (!scan_unsigned<true>(p, end, *field)) return false;
  }
  if (at_end() || !skip_fields(p, end, 47 - 28)) return true;
  for (std::uint64_t* field : {&out.arg_start, &out.arg_end, &out.env_start, &out.env_end}) {
    if (at_end()) return true;
    if (!scan_unsigned<true>(p, end, *field)) return false;
  }
  return true;
}

template <typename T>
bool narrow(std::uint64_t v, T& out) {
  if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
  out = static_cast<T>(v);
  return true;
}

}  // namespace

bool parse_stat(std::string_view text, StatFields& out) {
  // Field 1: pid, up to " (".
  std::size_t open = text.find(" (");
  if (open == std::string_view::npos) return false;
  auto pid = parse_u64(text.substr(0, open));
  if (!pid || !narrow(*pid, out.pid)) return false;
  // Field 2: comm, up to the LAST ')'. Only numbers follow the comm, so that
  // ')' lies within kMaxComm of the '(' unless some ')' lies past that window:
  // a quick forward memchr spares the byte-by-byte rfind over a 300-byte line.
  std::size_t window = open + 2 + kMaxComm + 1;
  std::size_t close = text.find(')', window) == std::string_view::npos
                          ? text.substr(0, window).rfind(')')
                          : text.rfind(')');
  if (close == std::string_view::npos || close < open + 2) return false;
  out.comm.assign(text.substr(open + 2, close - open - 2));

  // Field 3: state, a single character between spaces.
  const char* p = text.data() + close + 1;
  const char* end = text.data() + text.size();
  if (end - p < 3 || p[0] != ' ' || p[2] != ' ') return false;
  out.state = p[1];
  p += 3;

  // Fields 4..24, numbered as in proc(5), then 26-28 and 48-51; the rest of
  // the line is not read.
  std::uint64_t v = 0;
  for (int field = 4; field <= 24; ++field) {
    bool ok = true;
    switch (field) {
      case 4:
        ok = scan_unsigned(p, end, v) && narrow(v, out.ppid);
        break;
      case 5:
        ok = scan_unsigned(p, end, v) && narrow(v, out.pgrp);
        break;
      case 6:
        ok = scan_unsigned(p, end, v) && narrow(v, out.session);
        break;
      case 9:
        ok = scan_unsigned(p, end, v) && narrow(v, out.flags);
        break;
      case 14:
        ok = scan_unsigned(p, end, out.utime);
        break;
      case 15:
        ok = scan_unsigned(p, end, out.stime);
        break;
      case 16:
        ok = scan_unsigned(p, end, out.cutime);
        break;
      case 17:
        ok = scan_unsigned(p, end, out.cstime);
        break;
      case 20:
        ok = scan_unsigned(p, end, v) && narrow(v, out.threads);
        break;
      case 22:
        ok = scan_unsigned(p, end, out.start_time);
        break;
      case 23:
        ok = scan_unsigned(p, end, out.vsize_bytes);
        break;
      case 24:
        ok = scan_unsigned(p, end, out.rss_pages);
        break;
      default:
        ok = skip_field(p, end);
        break;
    }
    if (!ok) return false;
  }
  return parse_exec_addresses(p, end, out);
}

}  // namespace procfs
