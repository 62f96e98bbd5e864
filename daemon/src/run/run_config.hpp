#pragma once
// Everything `procmond run` can be told, with defaults that work for an
// unprivileged user. A TOML file (load_config_file) sets any of it; flags
// given on the command line override the file (main.cpp applies them after).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "collector.hpp"

namespace procmond {

enum class ConnectorMode { kAuto, kOn, kOff };  // kOn: refuse to start without it

struct RunConfig {
  std::filesystem::path socket;
  std::filesystem::path data_dir;
  std::chrono::milliseconds interval{1000};

  // Backpressure: the fullest subscriber queue above high_mark bytes, or a
  // stalled subscriber, stretches the interval (doubling, up to
  // max_interval); below low_mark, none stalled, it returns.
  std::chrono::milliseconds max_interval{8000};
  std::size_t high_mark = 1u << 20;
  std::size_t low_mark = 256u << 10;
  // A subscriber with bytes waiting that reads none for this long is stalled:
  // the interval stretches whatever the queue's depth.
  std::chrono::milliseconds stall_after{50};

  // Subscribers: each queue holds at most queue_bytes of events; one that
  // passes it is disconnected (it may come back from its last seq).
  std::size_t queue_bytes = 16u << 20;
  std::size_t max_subscribers = 64;

  // Write-ahead log.
  std::string wal_sync = "batch";  // always | batch | never
  // `batch`: the first write after a sync waits at most this long for others
  // to share the next fdatasync (0: at once; at once too once 1,024 wait).
  // Subscribers see events when written, so this delays only the durable mark.
  std::chrono::microseconds batch_delay{5000};
  std::uint64_t segment_bytes = 16u << 20;
  std::uint64_t retain_bytes = 1ull << 30;
  std::chrono::seconds retain_age{7 * 24 * 3600};

  // Collection.
  CollectorKind collector = CollectorKind::kAuto;  // bpf where it loads, else /proc
  std::string proc_root = "/proc";
  std::size_t max_cmdline_bytes = 4096;
  ConnectorMode connector = ConnectorMode::kAuto;
  std::size_t connector_buffer = 64u << 20;

  // Benchmarks of the pipeline (command line only): N synthetic events through
  // the WAL and the bus, at `synthetic_rate` per second (0: as fast as the
  // pipeline takes them).
  std::uint64_t synthetic_events = 0;
  double synthetic_rate = 0;
};

// Where the socket and data live when neither flag nor file says:
// $XDG_RUNTIME_DIR/procmond/ for the socket (else /run/procmond for root,
// else a private /tmp/procmond-UID), $XDG_STATE_HOME/procmond (else
// ~/.local/state/procmond, /var/lib/procmond for root) for data.
std::filesystem::path default_socket_path();
std::filesystem::path default_data_dir();
RunConfig default_run_config();

// Reads a TOML file over `config`. Throws std::runtime_error naming the file,
// the key and what is wrong (unknown keys too: a typo must not pass unseen).
void load_config_file(const std::filesystem::path& file, RunConfig& config);

// Checks what no single value can (low < high mark, interval <= max...).
// Throws std::runtime_error.
void validate(const RunConfig& config);

const char* to_string(ConnectorMode mode);

// "500ms", "2s", "1m", "1h", "7d" or bare seconds; "4KiB", "16MiB", "1GiB", "4096".
// Throw std::invalid_argument with a line a user can act on.
std::chrono::milliseconds parse_duration(const std::string& text);
std::uint64_t parse_size(const std::string& text);

}  // namespace procmond
