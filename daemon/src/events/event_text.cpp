#include "events/event_text.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <iterator>

#include "events/event_time.hpp"
#include "events/utf8.hpp"

namespace procmond {
namespace {

void append_escaped(std::string& out, std::string_view s) {
  while (!s.empty()) {
    const auto b = static_cast<std::uint8_t>(s[0]);
    std::size_t n = utf8_sequence_length(s);
    // C1 controls (U+0080..U+009F) are two bytes, 0xC2 0x80..0x9F.
    const bool c1 = n == 2 && b == 0xc2 && static_cast<std::uint8_t>(s[1]) <= 0x9f;
    if (b == '\n') {
      out += "\\n";
    } else if (b == '\t') {
      out += "\\t";
    } else if (b == '\\') {
      out += "\\\\";
    } else if (b == '"') {
      out += "\\\"";
    } else if (n == 0 || b < 0x20 || b == 0x7f || c1) {
      // Invalid UTF-8, a control: each byte escaped on its own.
      if (n == 0) n = 1;
      for (std::size_t i = 0; i < n; ++i)
        fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<std::uint8_t>(s[i]));
    } else {
      out.append(s.data(), n);
    }
    s.remove_prefix(n);
  }
}

void append_arg(std::string& out, std::string_view arg) {
  const bool quote = arg.empty() || arg.find_first_of(" \"") != std::string_view::npos;
  if (quote) out += '"';
  append_escaped(out, arg);
  if (quote) out += '"';
}

}  // namespace

std::string format_event_line(const Event& e) {
  std::string out = format_rfc3339_ns(e.time_ns);
  auto it = std::back_inserter(out);
  fmt::format_to(it, " #{} {}", e.seq, to_string(e.kind));
  if (e.kind == EventKind::kSnapshot) {
    fmt::format_to(it, " processes={}", e.processes);
    return out;
  }
  fmt::format_to(it, " pid={} ppid={} uid=", e.pid, e.ppid);
  if (e.uid == static_cast<uid_t>(-1))
    out += '-';
  else
    fmt::format_to(it, "{}", e.uid);
  out += " comm=";
  append_arg(out, e.comm);
  if (e.kind == EventKind::kChanged) {
    out += " changes=";
    if (e.changes & kChangeExec) out += "exec";
    if ((e.changes & kChangeExec) && (e.changes & kChangeReparent)) out += ',';
    if (e.changes & kChangeReparent) out += "reparent";
  }
  if (e.kind == EventKind::kExited) {
    if (e.exit_status < 0)
      out += " status=-";
    else
      fmt::format_to(it, " status={}", e.exit_status);
  }
  out += " cmd=";
  for (std::size_t i = 0; i < e.cmdline.size(); ++i) {
    if (i) out += ' ';
    append_arg(out, e.cmdline[i]);
  }
  if (e.cmdline_truncated) out += " [...]";
  return out;
}

}  // namespace procmond
