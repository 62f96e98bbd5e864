#include "daemon.hpp"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

#include "unix_address.hpp"
#include "wal_replay.hpp"

namespace procmond {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kSyntheticBatch = 256;
constexpr std::size_t kMaxBatchesInFlight = 8;  // events between the loop and the disk

wal::WalOptions wal_options(const RunConfig& c) {
  wal::WalOptions o;
  o.dir = c.data_dir / "wal";
  o.sync = wal::parse_sync_policy(c.wal_sync).value();
  o.segment_bytes = c.segment_bytes;
  o.retain_bytes = c.retain_bytes;
  o.retain_age = c.retain_age;
  return o;
}

CollectorOptions collector_options(const RunConfig& c) {
  CollectorOptions o;
  o.kind = c.collector;
  o.proc_root = c.proc_root;
  o.max_cmdline_bytes = c.max_cmdline_bytes;
  return o;
}

}  // namespace

Daemon::Daemon(const RunConfig& config, std::ostream& log)
    : config_(config),
      log_(log),
      lock_(DataDirLock::acquire(config.data_dir)),
      acceptor_(io_),
      signals_(io_, SIGTERM, SIGINT),
      cycle_timer_(io_),
      synthetic_timer_(io_),
      stall_timer_(io_),
      reader_(config.proc_root, config.max_cmdline_bytes),
      table_(reader_),
      backpressure_(config.interval, config.max_interval, config.low_mark, config.high_mark) {
  started_mono_ns_ = monotonic_ns();
  // The socket first: a client may connect while the WAL is recovered.
  claim_socket_path(config_.socket);
  using Endpoint = asio::local::stream_protocol::endpoint;
  const mode_t old_mask = ::umask(0177);  // the socket file is born owner-only
  error_code ec;
  acceptor_.open(asio::local::stream_protocol(), ec);
  if (!ec) acceptor_.bind(Endpoint(UnixAddress(config_.socket).path()), ec);
  ::umask(old_mask);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("cannot listen on {}: {}", config_.socket.string(), ec.message()));

  // After the socket listens (loading the BPF program takes tens of ms, and
  // clients may connect meanwhile), before the WAL: a collector that cannot
  // be made (a bad PROCMOND_DELIBERATE_SLOWDOWN_NS or _LEAK_BYTES, no /proc,
  // --collector bpf without the right) is refused in one line, and the
  // socket file goes with it.
  std::unique_ptr<Collector> collector;
  try {
    collector = make_collector(collector_options(config_), &collector_why_);
  } catch (...) {
    acceptor_.close(ec);
    ::unlink(config_.socket.c_str());
    throw;
  }
  collector_name_ = collector->name();
  collector_hidden_.assign(collector->hidden().begin(), collector->hidden().end());
  auto writer = wal::WalWriter::open(wal_options(config_), &recovery_);
  next_seq_ = writer.last_seq() + 1;
  head_seq_ = writer.last_seq();
  durable_seq_ = writer.last_seq();  // open() fdatasyncs what it recovered
  log_line(fmt::format("wal: {} records recovered, last seq {}, {} torn bytes cut, {} corrupt",
                       recovery_.records, recovery_.last_seq, recovery_.torn_bytes_cut,
                       recovery_.corruptions.size()));
  for (const auto& c : recovery_.corruptions)
    log_line(fmt::format("wal: corrupt record in {} at offset {}: {}", c.segment.string(), c.offset,
                         c.why));
  wal_ = std::make_unique<WalWorker>(
      std::move(writer), wal_options(config_).sync, config_.batch_delay, io_,
      [this](auto&& batches) { on_written(std::move(batches)); },
      [this](std::uint64_t seq) { on_durable(seq); });
  if (collector_why_.empty())
    log_line(std::string("collector: ") + collector_name_);
  else
    log_line("collector: proc, since BPF cannot be used: " + collector_why_);
  if (!collector_hidden_.empty())
    log_line(fmt::format("collector: pids /proc lists that are hidden from it, so unseen: {}",
                         fmt::join(collector_hidden_, " ")));
  poller_ = std::make_unique<Poller>(std::move(collector), io_);
  start_connector();
  synthetic_left_ = config_.synthetic_events;
}

Daemon::~Daemon() {
  // Threads first: they post into io_.
  if (poller_) poller_->stop();
  if (wal_) wal_->stop();
  error_code ignored;
  acceptor_.close(ignored);
  ::unlink(config_.socket.c_str());
}

void Daemon::log_line(const std::string& line) {
  log_ << "procmond: " << line << std::endl;
}

void Daemon::start_connector() {
  if (config_.connector == ConnectorMode::kOff) {
    connector_why_ = "turned off (collector.connector = off)";
  } else {
    connector_ = ProcConnector::open({.rcvbuf_bytes = config_.connector_buffer}, &connector_why_);
    if (!connector_ && config_.connector == ConnectorMode::kOn)
      throw std::runtime_error("the netlink proc connector is required (connector = on) but " +
                               connector_why_);
  }
  if (connector_) {
    connector_fd_.emplace(io_, ::dup(connector_->fd()));
    log_line(
        "events from: the netlink proc connector (every fork, exec and exit) and a poll of "
        "every process every " +
        std::to_string(config_.interval.count()) + " ms");
  } else {
    log_line(
        "events from: a poll of every process every " + std::to_string(config_.interval.count()) +
        " ms only (processes shorter than that may go unseen): the connector " + connector_why_);
  }
}

int Daemon::run() {
  signals_.async_wait([this](error_code ec, int signal) {
    if (!ec) shutdown(signal);
  });
  accept_next();
  if (connector_fd_) watch_connector();
  schedule_cycle(0ms);
  pump_synthetic();
  ::sd_notifyf(0, "READY=1\nSTATUS=serving on %s", config_.socket.c_str());
  log_line(fmt::format("ready: socket {}, data {}, wal sync {}", config_.socket.string(),
                       config_.data_dir.string(), config_.wal_sync));
  io_.run();
  return 0;
}

void Daemon::accept_next() {
  acceptor_.async_accept([this](error_code ec, asio::local::stream_protocol::socket socket) {
    if (ec) return;  // closed on shutdown
    auto session = std::make_shared<Session>(std::move(socket), *this, config_.queue_bytes);
    std::size_t subscribers = 0;
    for (auto& s : sessions_) subscribers += s->subscriber();
    sessions_.push_back(session);
    if (subscribers >= config_.max_subscribers)
      session->refuse(
          fmt::format("too many subscribers ({} is the limit)", config_.max_subscribers));
    else
      session->start();
    accept_next();
  });
}

void Daemon::watch_connector() {
  connector_fd_->async_wait(asio::posix::stream_descriptor::wait_read, [this](error_code ec) {
    if (ec || stopping_) return;
    const std::int64_t now = realtime_ns();
    auto result = connector_->drain([&](const ConnectorEvent& e) {
      // Before the first snapshot there is no table to apply them to: kept
      // (bounded), applied after it, so a process that lives only during the
      // first cycle is still reported.
      if (!baselined_) {
        if (early_.size() < kMaxEarlyEvents) early_.push_back(e);
        return;
      }
      apply(e, now);
    });
    connector_events_ += result.events;
    if (baselined_) emit(events_);
    events_.clear();
    if (result.overflowed) {
      // The kernel dropped events: only a full scan tells what changed.
      ++rescans_;
      log_line("connector: the kernel dropped events (ENOBUFS); rescanning /proc now");
      if (cycle_running_)
        rescan_wanted_ = true;
      else
        schedule_cycle(0ms);
    }
    watch_connector();
  });
}

void Daemon::apply(const ConnectorEvent& e, std::int64_t now) {
  switch (e.kind) {
    case ConnectorEvent::Kind::kFork:
      table_.on_fork(e.pid, e.ppid, e.mono_ns, now, events_);
      break;
    case ConnectorEvent::Kind::kExec:
      table_.on_exec(e.pid, e.mono_ns, now, events_);
      break;
    case ConnectorEvent::Kind::kExit:
      table_.on_exit(e.pid, e.exit_status, e.mono_ns, now, events_);
      break;
  }
}

void Daemon::schedule_cycle(std::chrono::milliseconds delay) {
  cycle_timer_.expires_after(delay);
  cycle_timer_.async_wait([this](error_code ec) {
    if (!ec && !stopping_) cycle();
  });
}

void Daemon::cycle() {
  if (cycle_running_) return;
  cycle_running_ = true;
  backpressure_.cycle_started();
  poller_->collect([this](const Snapshot* s, std::uint64_t began, const std::string& error) {
    on_snapshot(s, began, error);
  });
}

void Daemon::on_snapshot(const Snapshot* snapshot, std::uint64_t began, const std::string& error) {
  cycle_running_ = false;
  if (stopping_) return;
  last_cycle_ns_ = monotonic_ns() - began;
  if (!snapshot) {
    log_line("cycle failed: " + error);
  } else {
    ++cycles_;
    if (!baselined_) {
      const std::int64_t now = realtime_ns();
      table_.baseline(*snapshot, now, events_);
      baselined_ = true;
      for (const ConnectorEvent& e : early_) apply(e, now);
      early_.clear();
      early_.shrink_to_fit();
    } else {
      table_.apply_snapshot(*snapshot, began, realtime_ns(), events_);
    }
    emit(events_);
    events_.clear();
  }
  if (rescan_wanted_) {
    rescan_wanted_ = false;
    return schedule_cycle(0ms);
  }
  // The interval counts from the cycle's start, as a schedule would.
  const auto spent = std::chrono::nanoseconds(monotonic_ns() - began);
  const auto wait =
      backpressure_.interval() - std::chrono::duration_cast<std::chrono::milliseconds>(spent);
  schedule_cycle(std::max(wait, 0ms));
}

void Daemon::emit(std::vector<Event>& events) {
  if (events.empty()) return;
  auto batch = std::make_shared<EventBatch>();
  batch->items.reserve(events.size());
  const std::int64_t now = realtime_ns();
  for (Event& e : events) {
    e.seq = next_seq_++;
    if (e.time_ns == 0) e.time_ns = now;
    batch->add(e);
  }
  ++batches_in_flight_;
  wal_->submit(std::move(batch));
}

void Daemon::on_written(std::vector<std::shared_ptr<EventBatch>>&& batches) {
  for (auto& b : batches) {
    --batches_in_flight_;
    if (!b->written) {
      if (unwritten_events_ == 0)
        log_line(
            fmt::format("wal: cannot write ({}); events still go to subscribers and are "
                        "counted as unwritten",
                        std::strerror(wal_->counters().last_errno.load())));
      unwritten_events_ += b->items.size();
    }
    head_seq_ = b->last_seq();
    BatchPtr shared = std::move(b);
    for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->offer(shared);
  }
  queue_changed();
  pump_synthetic();
}

void Daemon::pump_synthetic() {
  if (synthetic_left_ == 0 || stopping_ || !baselined_) {
    // The baseline comes first so that seq order matches time order.
    if (synthetic_left_ && !baselined_ && !stopping_) {
      synthetic_timer_.expires_after(1ms);
      synthetic_timer_.async_wait([this](error_code ec) {
        if (!ec) pump_synthetic();
      });
    }
    return;
  }
  if (synthetic_began_ns_ == 0) synthetic_began_ns_ = monotonic_ns();
  // As fast as the pipeline takes them (rate 0), they wait for the slowest
  // subscriber, as the backpressure asks; at a set rate they model a load
  // that does not wait (as the kernel's processes do not), bounded only by
  // the batches the WAL has in hand.
  const bool open_loop = config_.synthetic_rate > 0;
  while (synthetic_left_ && batches_in_flight_ < kMaxBatchesInFlight &&
         (open_loop || !backpressure_.holding())) {
    std::uint64_t n = std::min<std::uint64_t>(synthetic_left_, kSyntheticBatch);
    if (config_.synthetic_rate > 0) {
      // On schedule: as many as are due by now, never ahead.
      const double due_s = static_cast<double>(monotonic_ns() - synthetic_began_ns_) * 1e-9;
      const auto due = static_cast<std::uint64_t>(due_s * config_.synthetic_rate) + 1;
      n = std::min(n, due > synthetic_made_ ? due - synthetic_made_ : 0);
      if (n == 0) {
        synthetic_timer_.expires_after(1ms);
        synthetic_timer_.async_wait([this](error_code ec) {
          if (!ec) pump_synthetic();
        });
        return;
      }
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      Event& e = events_.emplace_back();
      e.kind = EventKind::kSynthetic;
      e.source = EventSource::kSynthetic;
      e.pid = static_cast<pid_t>(synthetic_made_ + i + 1);
      e.comm = "synthetic";
      e.cmdline = {"synthetic", "--event"};
    }
    synthetic_made_ += n;
    synthetic_left_ -= n;
    emit(events_);
    events_.clear();
  }
}

void Daemon::on_durable(std::uint64_t seq) {
  if (seq <= durable_seq_) return;
  durable_seq_ = seq;
  for (std::size_t i = 0; i < sessions_.size(); ++i) sessions_[i]->durable(seq);
}

std::unique_ptr<ReplaySource> Daemon::open_replay(std::uint64_t from, std::uint64_t up_to,
                                                  const EventFilter& filter) {
  return std::make_unique<WalReplay>(config_.data_dir / "wal", from, up_to, filter);
}

void Daemon::queue_changed() {
  look_at_subscribers();
  arm_stall_timer();
}

void Daemon::arm_stall_timer() {
  if (stall_timer_armed_ || stopping_) return;
  bool unread = false;
  for (auto& s : sessions_) unread = unread || s->has_unread();
  if (!unread) return;
  stall_timer_armed_ = true;
  // A fifth of the stall time: a stall is seen between 1 and 1.2 times it.
  stall_timer_.expires_after(config_.stall_after / 5);
  stall_timer_.async_wait([this](error_code ec) {
    stall_timer_armed_ = false;
    if (ec || stopping_) return;
    look_at_subscribers();
    arm_stall_timer();
  });
}

void Daemon::look_at_subscribers() {
  const auto now = std::chrono::steady_clock::now();
  std::size_t fullest = 0, stalled = 0;
  for (auto& s : sessions_) {
    fullest = std::max(fullest, s->queued_bytes());
    stalled += s->stalled(now, config_.stall_after);
  }
  stalled_ = stalled;
  switch (backpressure_.observe(fullest, stalled > 0)) {
    case Backpressure::Move::kStretched:
      log_line(fmt::format("backpressure: {}: interval stretched to {} ms",
                           stalled ? fmt::format("{} subscriber(s) read nothing for {} ms", stalled,
                                                 config_.stall_after.count())
                                   : fmt::format("a subscriber queue holds {} bytes (high mark {})",
                                                 fullest, config_.high_mark),
                           backpressure_.interval().count()));
      // The next cycle moves out to the new interval at once.
      if (!cycle_running_ && baselined_) schedule_cycle(backpressure_.interval());
      break;
    case Backpressure::Move::kRestored:
      log_line(
          fmt::format("backpressure: subscribers read again (queues below {} bytes): "
                      "interval back to {} ms",
                      config_.low_mark, backpressure_.interval().count()));
      pump_synthetic();
      break;
    case Backpressure::Move::kNone:
      break;
  }
}

void Daemon::dropped_slow(const Session& session) {
  ++slow_disconnects_;
  log_line(
      fmt::format("a subscriber is dropped: its queue passed {} bytes; it may resume from "
                  "seq {} ({} dropped so far)",
                  config_.queue_bytes, session.next_seq(), slow_disconnects_));
}

void Daemon::closed(Session* session) {
  // Erased later, not from inside the session's own handler.
  asio::post(io_, [this, session] {
    std::erase_if(sessions_, [session](const auto& s) { return s.get() == session; });
    queue_changed();
  });
}

nlohmann::json Daemon::status() {
  const auto& w = wal_->counters();
  std::size_t subscribers = 0, fullest = 0;
  for (auto& s : sessions_) {
    subscribers += s->subscriber();
    fullest = std::max(fullest, s->queued_bytes());
  }
  return {
      {"pid", ::getpid()},
      {"uptime_s", static_cast<double>(monotonic_ns() - started_mono_ns_) * 1e-9},
      {"source", connector_ ? "connector+poll" : "poll"},
      {"collector", collector_name_},
      {"collector_hidden", collector_hidden_},
      {"collector_fallback",
       collector_why_.empty() ? nlohmann::json(nullptr) : nlohmann::json(collector_why_)},
      {"connector", connector_ ? nlohmann::json("in force") : nlohmann::json(connector_why_)},
      {"interval_ms", backpressure_.interval().count()},
      {"base_interval_ms", backpressure_.base().count()},
      {"backpressure",
       {{"stretched", backpressure_.stretched()},
        {"stretches", backpressure_.stretches()},
        {"restores", backpressure_.restores()},
        {"fullest_queue_bytes", fullest},
        {"stalled_subscribers", stalled_},
        {"stall_after_ms", config_.stall_after.count()},
        {"high_mark", config_.high_mark},
        {"low_mark", config_.low_mark}}},
      {"seq", head_seq_},
      {"durable_seq", durable_seq_},
      {"processes", table_.size()},
      {"cycles", cycles_},
      {"last_cycle_ms", static_cast<double>(last_cycle_ns_) * 1e-6},
      {"connector_events", connector_events_},
      {"rescans", rescans_},
      {"subscribers", subscribers},
      {"slow_disconnects", slow_disconnects_},
      {"synthetic_made", synthetic_made_},
      {"wal",
       {{"sync", config_.wal_sync},
        {"records", w.records.load()},
        {"bytes", w.bytes.load()},
        {"syncs", w.syncs.load()},
        {"commits", w.commits.load()},
        {"unwritten_events", unwritten_events_},
        {"recovered_records", recovery_.records},
        {"torn_bytes_cut", recovery_.torn_bytes_cut},
        {"corruptions", recovery_.corruptions.size()}}},
  };
}

void Daemon::shutdown(int signal) {
  log_line(fmt::format("{}: stopping", ::strsignal(signal)));
  ::sd_notify(0, "STOPPING=1");
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  cycle_timer_.cancel();
  synthetic_timer_.cancel();
  stall_timer_.cancel();
  if (connector_fd_) connector_fd_->close(ignored);
  poller_->stop();
  // The last batches are written and synced; their `written` handlers are
  // posted to the loop, which runs them (publishing them) before the byes.
  wal_->stop();
  asio::post(io_, [this] {
    for (std::size_t i = 0; i < sessions_.size(); ++i)
      sessions_[i]->close_with("procmond is stopping");
    log_line(fmt::format("stopped: last seq {}, {} records written", head_seq_,
                         wal_->counters().records.load()));
  });
}

}  // namespace procmond
