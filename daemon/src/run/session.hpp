#pragma once
// One client connection: it sends requests (subscribe, status) and, once
// subscribed, receives events from a bounded queue. A subscriber that reads
// too slowly is told so at half its queue and disconnected, with the seq to
// come back from, when the queue is full: the daemon's memory never grows
// with a client's laziness.

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "event_batch.hpp"
#include "event_filter.hpp"
#include "wire.hpp"

namespace procmond {

// Past events for a subscriber that asked to start from a sequence number.
class ReplaySource {
 public:
  virtual ~ReplaySource() = default;
  // Appends the next matching events as wire frames (about max_bytes); false
  // when there are no more.
  virtual bool next(std::string& frames, std::size_t max_bytes) = 0;
  virtual std::uint64_t last_seq() const = 0;  // of the last event appended (0: none yet)
};

class Session;

// What a session needs of the daemon.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual std::uint64_t head_seq() const = 0;     // the last event published
  virtual std::uint64_t durable_seq() const = 0;  // the last the WAL's policy covers
  // Events [from, up_to] from the WAL (from 0: the oldest held).
  virtual std::unique_ptr<ReplaySource> open_replay(std::uint64_t from, std::uint64_t up_to,
                                                    const EventFilter& filter) = 0;
  virtual nlohmann::json status() = 0;
  virtual void queue_changed() = 0;  // a queue grew or shrank: backpressure looks again
  virtual void dropped_slow(const Session& session) = 0;  // its queue passed the bound
  virtual void closed(Session* session) = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  Session(Socket socket, SessionHost& host, std::size_t queue_limit);

  void start();
  // Queues the batch's events this subscriber wants (nothing before it subscribed).
  void offer(const BatchPtr& batch);
  // Tells a subscriber that every event up to `seq` is durable.
  void durable(std::uint64_t seq);
  // Sends `bye` with the reason after what is queued (a replay under way ends
  // there), then closes once it is written, or after `grace` at most.
  void close_with(const std::string& reason,
                  std::chrono::milliseconds grace = std::chrono::seconds(1));
  // Says why and closes at once (a refused connection).
  void refuse(const std::string& reason);

  std::size_t queued_bytes() const { return queued_bytes_; }
  // Whether bytes wait for this subscriber (in our queue or the socket's) and
  // it has read none of them for `stall_after`. Reads SIOCOUTQ, the bytes the
  // peer has not read yet: a stall shows before the socket buffer fills.
  bool stalled(std::chrono::steady_clock::time_point now, std::chrono::milliseconds stall_after);
  bool has_unread() const { return unread_; }
  bool subscriber() const { return subscribed_; }
  std::uint64_t next_seq() const { return next_seq_; }  // the first seq not yet sent

 private:
  struct Entry {
    BatchPtr batch;                   // null for an owned entry
    std::vector<std::uint32_t> pick;  // items of `batch` wanted; empty: all
    std::string owned;                // a control frame
    std::size_t bytes = 0;
    std::uint64_t last_seq = 0;  // the last event it carries (0: none)
  };

  void read_more();
  void on_request(std::string_view body);
  void subscribe(const nlohmann::json& request);
  void send_control(const nlohmann::json& message);
  void push(Entry entry);
  void write_more();
  void finish();
  int unread_in_socket();  // SIOCOUTQ: bytes the peer has not read yet

  Socket socket_;
  SessionHost& host_;
  const std::size_t queue_limit_;
  boost::asio::steady_timer close_timer_;
  wire::FrameParser parser_{wire::kMaxRequestBytes};
  std::array<char, 4096> read_buf_{};

  bool subscribed_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool told_slow_ = false;
  EventFilter filter_;
  std::uint64_t live_from_ = 0;  // live events below this are covered by the replay
  std::uint64_t next_seq_ = 0;   // for a `bye`: where to come back from
  std::unique_ptr<ReplaySource> replay_;

  std::deque<Entry> queue_;
  std::size_t queued_bytes_ = 0;
  int outq_after_write_ = 0;  // the socket's unread bytes after our last write (or look)
  std::chrono::steady_clock::time_point progress_at_{};
  bool unread_ = false;
  bool writing_ = false;
  std::size_t in_flight_ = 0;  // entries of queue_ being written (or the replay chunk)
  std::string replay_buf_;
  std::vector<boost::asio::const_buffer> buffers_;
};

}  // namespace procmond
