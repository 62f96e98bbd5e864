#include "run_config.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "procmon/duration_arg.hpp"

namespace procmond {
namespace {

std::filesystem::path env_path(const char* name) {
  const char* v = std::getenv(name);
  return v && *v == '/' ? std::filesystem::path(v) : std::filesystem::path();
}

// The same transformers as the flags, so a file and a flag take the same forms.
std::string run_validator(const CLI::Validator& v, std::string text) {
  std::string why;
  try {
    why = v(text);
  } catch (const CLI::ValidationError& e) {
    why = e.what();
  }
  if (!why.empty()) throw std::invalid_argument(why);
  return text;
}

}  // namespace

std::filesystem::path default_socket_path() {
  if (auto run = env_path("XDG_RUNTIME_DIR"); !run.empty())
    return run / "procmond" / "procmond.sock";
  if (::geteuid() == 0) return "/run/procmond/procmond.sock";
  return std::filesystem::path(fmt::format("/tmp/procmond-{}", ::geteuid())) / "procmond.sock";
}

std::filesystem::path default_data_dir() {
  if (auto state = env_path("XDG_STATE_HOME"); !state.empty()) return state / "procmond";
  if (::geteuid() == 0) return "/var/lib/procmond";
  if (auto home = env_path("HOME"); !home.empty()) return home / ".local" / "state" / "procmond";
  return std::filesystem::path(fmt::format("/tmp/procmond-{}", ::geteuid())) / "data";
}

RunConfig default_run_config() {
  RunConfig c;
  c.socket = default_socket_path();
  c.data_dir = default_data_dir();
  return c;
}

std::chrono::milliseconds parse_duration(const std::string& text) {
  double seconds = 0;
  CLI::detail::lexical_cast(run_validator(procmon::duration_arg(), text), seconds);
  return std::chrono::milliseconds(std::llround(seconds * 1000));
}

std::uint64_t parse_size(const std::string& text) {
  std::uint64_t bytes = 0;
  if (!CLI::detail::lexical_cast(run_validator(CLI::AsSizeValue(false), text), bytes))
    throw std::invalid_argument("'" + text + "' is not a size (4096, 4KiB, 16MiB, 1GiB)");
  return bytes;
}

namespace {

// Reads one table of the file key by key; anything left over is unknown.
class Keys {
 public:
  Keys(const toml::table& t, std::string prefix) : table_(t), prefix_(std::move(prefix)) {}

  template <typename F>
  void take(const char* key, F&& set) {
    const toml::node* node = table_.get(key);
    seen_.push_back(key);
    if (!node) return;
    try {
      set(*node);
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("{}{}: {}", prefix_, key, e.what()));
    }
  }
  void string(const char* key, std::string& out) {
    take(key, [&](const toml::node& n) { out = text(n); });
  }
  void duration(const char* key, auto& out) {
    take(key, [&](const toml::node& n) {
      out = std::chrono::duration_cast<std::remove_reference_t<decltype(out)>>(
          parse_duration(as_text(n)));
    });
  }
  void size(const char* key, auto& out) {
    take(key, [&](const toml::node& n) { out = parse_size(as_text(n)); });
  }
  // Any key not taken is a mistake of the file's author.
  void no_others() const {
    for (auto&& [k, v] : table_) {
      if (v.is_table()) continue;
      if (std::find(seen_.begin(), seen_.end(), k.str()) == seen_.end())
        throw std::runtime_error(fmt::format("{}{}: unknown key", prefix_, k.str()));
    }
  }

  static std::string text(const toml::node& n) {
    if (auto s = n.value<std::string>()) return *s;
    throw std::invalid_argument("expected a string");
  }
  // Sizes and durations may be written bare (4096, 2) or with a unit ("4KiB").
  static std::string as_text(const toml::node& n) {
    if (auto i = n.value_exact<std::int64_t>()) return std::to_string(*i);
    if (auto d = n.value_exact<double>()) return fmt::format("{}", *d);
    return text(n);
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  std::vector<std::string_view> seen_;
};

const toml::table& section(const toml::table& root, const char* name) {
  static const toml::table empty;
  const toml::node* n = root.get(name);
  if (!n) return empty;
  if (!n->is_table()) throw std::runtime_error(fmt::format("{}: expected a table", name));
  return *n->as_table();
}

ConnectorMode parse_connector(const std::string& s) {
  if (s == "auto") return ConnectorMode::kAuto;
  if (s == "on") return ConnectorMode::kOn;
  if (s == "off") return ConnectorMode::kOff;
  throw std::invalid_argument("'" + s + "' is not one of auto, on, off");
}

}  // namespace

void load_config_file(const std::filesystem::path& file, RunConfig& c) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(fmt::format("{}:{}:{}: {}", file.string(), e.source().begin.line,
                                         e.source().begin.column, e.description()));
  }
  try {
    for (auto&& [k, v] : root)
      if (v.is_table() && k.str() != "backpressure" && k.str() != "subscribers" &&
          k.str() != "wal" && k.str() != "collector")
        throw std::runtime_error(fmt::format("[{}]: unknown section", k.str()));

    Keys top(root, "");
    std::string socket = c.socket.string(), data = c.data_dir.string();
    top.string("socket", socket);
    top.string("data_dir", data);
    c.socket = socket;
    c.data_dir = data;
    top.duration("interval", c.interval);
    top.no_others();

    Keys bp(section(root, "backpressure"), "backpressure.");
    bp.duration("max_interval", c.max_interval);
    bp.size("high_mark", c.high_mark);
    bp.size("low_mark", c.low_mark);
    bp.duration("stall_after", c.stall_after);
    bp.no_others();

    Keys subs(section(root, "subscribers"), "subscribers.");
    subs.size("queue", c.queue_bytes);
    subs.take("max", [&](const toml::node& n) {
      auto v = n.value_exact<std::int64_t>();
      if (!v || *v < 1) throw std::invalid_argument("expected a whole number >= 1");
      c.max_subscribers = static_cast<std::size_t>(*v);
    });
    subs.no_others();

    Keys wal(section(root, "wal"), "wal.");
    wal.take("sync", [&](const toml::node& n) {
      std::string s = Keys::text(n);
      if (s != "always" && s != "batch" && s != "never")
        throw std::invalid_argument("'" + s + "' is not one of always, batch, never");
      c.wal_sync = s;
    });
    wal.duration("batch_delay", c.batch_delay);
    wal.size("segment_size", c.segment_bytes);
    wal.size("retain_size", c.retain_bytes);
    wal.duration("retain_age", c.retain_age);
    wal.no_others();

    Keys col(section(root, "collector"), "collector.");
    col.take("kind", [&](const toml::node& n) {
      std::string s = Keys::text(n);
      auto kind = parse_collector_kind(s);
      if (!kind) throw std::invalid_argument("'" + s + "' is not one of auto, bpf, proc");
      c.collector = *kind;
    });
    col.string("proc_root", c.proc_root);
    col.size("max_cmdline", c.max_cmdline_bytes);
    col.take("connector",
             [&](const toml::node& n) { c.connector = parse_connector(Keys::text(n)); });
    col.size("connector_buffer", c.connector_buffer);
    col.no_others();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", file.string(), e.what()));
  }
}

void validate(const RunConfig& c) {
  using namespace std::chrono_literals;
  auto fail = [](const std::string& why) { throw std::runtime_error(why); };
  if (c.interval < 10ms) fail("interval must be at least 10ms");
  if (c.max_interval < c.interval) fail("backpressure.max_interval must be >= interval");
  if (c.low_mark >= c.high_mark) fail("backpressure.low_mark must be below high_mark");
  if (c.stall_after < 2ms) fail("backpressure.stall_after must be at least 2ms");
  if (c.high_mark >= c.queue_bytes) fail("backpressure.high_mark must be below subscribers.queue");
  if (c.segment_bytes < 4096) fail("wal.segment_size must be at least 4KiB");
  if (c.max_cmdline_bytes < 1) fail("collector.max_cmdline must be at least 1 byte");
  // A path past sun_path's 107 bytes is reached through its directory (unix_address.hpp).
  if (c.socket.filename().native().size() > 64)
    fail(
        fmt::format("socket name {} is too long (64 bytes at most)", c.socket.filename().string()));
}

const char* to_string(ConnectorMode mode) {
  switch (mode) {
    case ConnectorMode::kAuto:
      return "auto";
    case ConnectorMode::kOn:
      return "on";
    case ConnectorMode::kOff:
      return "off";
  }
  return "?";
}

}  // namespace procmond
