#include "events/event_json.hpp"

#include "events/event_time.hpp"
#include "events/utf8.hpp"

namespace procmond {
namespace {

// nlohmann's dump throws on invalid UTF-8: the common case (valid) is kept
// as is, the rest is repaired once here, where it enters JSON.
nlohmann::json text(const std::string& s) {
  return is_valid_utf8(s) ? nlohmann::json(s) : nlohmann::json(sanitize_utf8(s));
}

}  // namespace

nlohmann::json to_json(const Event& e) {
  nlohmann::json j = {
      {"seq", e.seq}, {"time", format_rfc3339_ns(e.time_ns)}, {"kind", to_string(e.kind)},
      {"pid", e.pid}, {"source", to_string(e.source)},
  };
  if (e.kind == EventKind::kSnapshot) {
    j["processes"] = e.processes;
    return j;
  }
  j["ppid"] = e.ppid;
  j["uid"] = e.uid == static_cast<uid_t>(-1) ? nlohmann::json(nullptr) : nlohmann::json(e.uid);
  j["comm"] = text(e.comm);
  j["exe"] = text(e.exe);
  auto& args = j["cmdline"] = nlohmann::json::array();
  for (const auto& arg : e.cmdline) args.push_back(text(arg));
  j["cmdline_truncated"] = e.cmdline_truncated;
  j["start_time"] = e.start_time;
  j["utime"] = e.utime;
  j["stime"] = e.stime;
  j["rss_bytes"] = e.rss_bytes;
  j["threads"] = e.threads;
  if (e.kind == EventKind::kChanged) {
    auto& changes = j["changes"] = nlohmann::json::array();
    if (e.changes & kChangeExec) changes.push_back("exec");
    if (e.changes & kChangeReparent) changes.push_back("reparent");
  }
  if (e.kind == EventKind::kExited)
    j["exit_status"] = e.exit_status < 0 ? nlohmann::json(nullptr) : nlohmann::json(e.exit_status);
  return j;
}

}  // namespace procmond
