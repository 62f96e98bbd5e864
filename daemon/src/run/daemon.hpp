#pragma once
// `procmond run`: the collector's cycles (and the kernel's connector, where
// the daemon may use it) turned into events, written to the WAL, then
// published to subscribers on a Unix socket. One event loop (Boost.Asio) on
// the main thread owns the sockets, the process table and the sequence; the
// collector and the WAL writer have a thread each, so neither a long cycle
// nor an fsync stalls the loop.

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "backpressure.hpp"
#include "connector/proc_connector.hpp"
#include "data_dir_lock.hpp"
#include "events/process_table.hpp"
#include "poller.hpp"
#include "proc_process_reader.hpp"
#include "run_config.hpp"
#include "session.hpp"
#include "wal_worker.hpp"

namespace procmond {

class Daemon final : public SessionHost {
 public:
  // Takes the lock, the socket and the WAL; throws std::runtime_error with a
  // line for the user when it cannot (a second daemon, an unwritable dir).
  Daemon(const RunConfig& config, std::ostream& log);
  ~Daemon() override;

  // Runs until SIGTERM or SIGINT; returns the exit status.
  int run();

  // SessionHost
  std::uint64_t head_seq() const override { return head_seq_; }
  std::uint64_t durable_seq() const override { return durable_seq_; }
  std::unique_ptr<ReplaySource> open_replay(std::uint64_t from, std::uint64_t up_to,
                                            const EventFilter& filter) override;
  nlohmann::json status() override;
  void queue_changed() override;
  void dropped_slow(const Session& session) override;
  void closed(Session* session) override;

 private:
  void accept_next();
  void start_connector();
  void watch_connector();
  void apply(const ConnectorEvent& event, std::int64_t now);
  void schedule_cycle(std::chrono::milliseconds delay);
  void cycle();
  void on_snapshot(const Snapshot* snapshot, std::uint64_t began, const std::string& error);
  void emit(std::vector<Event>& events);
  void on_written(std::vector<std::shared_ptr<EventBatch>>&& batches);
  void on_durable(std::uint64_t seq);
  void pump_synthetic();
  void arm_stall_timer();
  void look_at_subscribers();
  void shutdown(int signal);
  void log_line(const std::string& line);

  RunConfig config_;
  std::ostream& log_;
  boost::asio::io_context io_;
  DataDirLock lock_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer cycle_timer_;
  boost::asio::steady_timer synthetic_timer_;
  boost::asio::steady_timer stall_timer_;  // runs only while a subscriber has unread bytes
  bool stall_timer_armed_ = false;
  std::size_t stalled_ = 0;  // subscribers stalled at the last look
  std::optional<ProcConnector> connector_;
  std::optional<boost::asio::posix::stream_descriptor> connector_fd_;
  std::string connector_why_;            // why it is not in force
  std::string collector_name_;           // "bpf" or "proc"
  std::string collector_why_;            // why not BPF, when auto fell back to /proc
  std::vector<pid_t> collector_hidden_;  // pids /proc lists that it cannot see
  std::unique_ptr<Poller> poller_;
  std::unique_ptr<WalWorker> wal_;
  wal::RecoveryReport recovery_;
  ProcProcessReader reader_;  // the connector's fork and exec read the process at once
  ProcessTable table_;
  Backpressure backpressure_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::vector<Event> events_;  // reused by each cycle

  std::uint64_t next_seq_ = 1;
  std::uint64_t head_seq_ = 0;         // the last event published
  std::uint64_t durable_seq_ = 0;      // the last the WAL policy's promise covers
  std::vector<ConnectorEvent> early_;  // before the first snapshot
  static constexpr std::size_t kMaxEarlyEvents = 100'000;
  std::size_t batches_in_flight_ = 0;
  bool baselined_ = false;
  bool cycle_running_ = false;
  bool rescan_wanted_ = false;
  bool stopping_ = false;
  std::uint64_t cycles_ = 0;
  std::uint64_t last_cycle_ns_ = 0;
  std::uint64_t connector_events_ = 0;
  std::uint64_t rescans_ = 0;
  std::uint64_t unwritten_events_ = 0;
  std::uint64_t slow_disconnects_ = 0;
  std::uint64_t synthetic_left_ = 0;
  std::uint64_t synthetic_made_ = 0;
  std::uint64_t synthetic_began_ns_ = 0;
  std::uint64_t started_mono_ns_ = 0;
};

}  // namespace procmond
