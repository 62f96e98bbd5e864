#include "snapshot_format.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <string>

namespace procmond {
namespace {

constexpr uid_t kUnknownUid = static_cast<uid_t>(-1);

// Any process may put a newline or an escape sequence in its argv or comm; a
// table row must stay one line and must not drive the terminal, so control
// bytes are shown escaped (\n, \t, \xHH).
void append_printable(std::string& out, std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
}

// Joins argv for display; kernel threads show their comm in brackets, as ps does.
std::string display_command(const ProcessRecord& p) {
  std::string out;
  if (p.identity == nullptr || p.identity->cmdline.empty()) {
    out += '[';
    append_printable(out, p.stat.comm.view());
    out += ']';
    return out;
  }
  for (const auto& arg : p.identity->cmdline) {
    if (!out.empty()) out += ' ';
    append_printable(out, arg);
  }
  if (p.identity->cmdline_truncated) out += " [...]";
  return out;
}

}  // namespace

nlohmann::json snapshot_to_json(const Snapshot& snapshot) {
  nlohmann::json processes = nlohmann::json::array();
  for (const ProcessRecord& p : snapshot.processes) {
    const ProcessIdentity empty;
    const ProcessIdentity& id = p.identity ? *p.identity : empty;
    processes.push_back({
        {"pid", p.stat.pid},
        {"ppid", p.stat.ppid},
        {"uid", id.uid == kUnknownUid ? nlohmann::json(nullptr) : nlohmann::json(id.uid)},
        {"state", std::string(1, p.stat.state)},
        {"comm", std::string(p.stat.comm.view())},
        {"cmdline", id.cmdline},
        {"cmdline_truncated", id.cmdline_truncated},
        {"exe", id.exe},
        {"start_time", p.stat.start_time},
        {"utime", p.stat.utime},
        {"stime", p.stat.stime},
        {"rss_bytes", p.rss_bytes},
        {"vsize_bytes", p.stat.vsize_bytes},
        {"threads", p.stat.threads},
    });
  }
  const CycleStats& st = snapshot.stats;
  return {{"count", snapshot.processes.size()},
          {"listed", st.listed},
          // What could not be read: the figures above leave these processes out.
          {"errors",
           {{"vanished", st.vanished},
            {"read", st.read_errors},
            {"parse", st.parse_errors},
            {"identity", st.identity_errors}}},
          {"processes", std::move(processes)}};
}

void write_snapshot_table(const Snapshot& snapshot, std::ostream& out) {
  fmt::print(out, "{:>7} {:>7} {:>6} {} {:>10} {:>10} {:>4} {:>9} {:>9}  {}\n", "PID", "PPID",
             "UID", "S", "RSS_KiB", "VSZ_KiB", "THR", "UTIME", "STIME", "COMMAND");
  for (const ProcessRecord& p : snapshot.processes) {
    uid_t uid = p.identity ? p.identity->uid : kUnknownUid;
    fmt::print(out, "{:>7} {:>7} {:>6} {} {:>10} {:>10} {:>4} {:>9} {:>9}  {}\n", p.stat.pid,
               p.stat.ppid, uid == kUnknownUid ? std::string("?") : std::to_string(uid),
               p.stat.state, p.rss_bytes / 1024, p.stat.vsize_bytes / 1024, p.stat.threads,
               p.stat.utime, p.stat.stime, display_command(p));
  }
  fmt::print(out, "{} processes\n", snapshot.processes.size());
}

}  // namespace procmond
