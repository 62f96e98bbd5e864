#include "procfs/stat.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>

#include "procfs/fields.hpp"

namespace procfs {
namespace {

// The longest comm the kernel prints in stat (kernel threads' full names).
constexpr std::size_t kMaxComm = 64;

// Reads one unsigned decimal field ending at a space, newline or the end.
// Advances `p` past the field and its separator.
bool scan_unsigned(const char*& p, const char* end, std::uint64_t& out) {
  std::uint64_t v = 0;
  const char* start = p;
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

  // Fields 4..51, numbered as in proc(5); the rest of the line is not read.
  // Past 24 the line may end early (older kernels): what it lacks stays 0.
  out.start_code = out.end_code = out.start_stack = 0;
  out.arg_start = out.arg_end = out.env_start = out.env_end = 0;
  std::uint64_t v = 0;
  for (int field = 4; field <= 51; ++field) {
    if (field > 24 && (p == end || *p == '\n')) break;
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
      case 26:
        ok = scan_unsigned(p, end, out.start_code);
        break;
      case 27:
        ok = scan_unsigned(p, end, out.end_code);
        break;
      case 28:
        ok = scan_unsigned(p, end, out.start_stack);
        break;
      case 48:
        ok = scan_unsigned(p, end, out.arg_start);
        break;
      case 49:
        ok = scan_unsigned(p, end, out.arg_end);
        break;
      case 50:
        ok = scan_unsigned(p, end, out.env_start);
        break;
      case 51:
        ok = scan_unsigned(p, end, out.env_end);
        break;
      default:
        ok = skip_field(p, end);
        break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace procfs
