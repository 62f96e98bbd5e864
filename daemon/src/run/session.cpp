#include "session.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/write.hpp>

namespace procmond {

namespace asio = boost::asio;
using boost::system::error_code;

Session::Session(Socket socket, SessionHost& host, std::size_t queue_limit)
    : socket_(std::move(socket)),
      host_(host),
      queue_limit_(queue_limit),
      close_timer_(socket_.get_executor()) {}

void Session::start() {
  // The socket file is owner-only; the peer's uid is checked all the same, in
  // case the file's mode was loosened by hand.
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      (cred.uid != ::geteuid() && cred.uid != 0))
    return refuse("permission denied: only the daemon's own user and root may connect");
  read_more();
}

void Session::read_more() {
  socket_.async_read_some(asio::buffer(read_buf_),
                          [self = shared_from_this()](error_code ec, std::size_t n) {
                            if (ec || self->closed_) return self->finish();
                            self->parser_.feed({self->read_buf_.data(), n});
                            try {
                              while (auto frame = self->parser_.next()) {
                                if (frame->type != wire::FrameType::kRequest)
                                  return self->refuse("expected a request frame");
                                self->on_request(frame->body);
                                if (self->closing_) return;
                              }
                            } catch (const std::exception& e) {
                              return self->refuse(e.what());
                            }
                            self->read_more();
                          });
}

void Session::on_request(std::string_view body) {
  nlohmann::json request = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object() || !request.contains("op") || !request["op"].is_string())
    return refuse("a request is a JSON object with an \"op\"");
  const std::string op = request["op"].get<std::string>();
  if (op == "status") {
    nlohmann::json reply = host_.status();
    reply["type"] = "status";
    return send_control(reply);
  }
  if (op == "subscribe") {
    if (subscribed_) return refuse("already subscribed");
    try {
      return subscribe(request);
    } catch (const std::exception& e) {
      return refuse(e.what());
    }
  }
  refuse("unknown op \"" + op + "\" (status, subscribe)");
}

void Session::subscribe(const nlohmann::json& request) {
  filter_ = EventFilter::from_request(request);
  const std::uint64_t head = host_.head_seq();
  live_from_ = head + 1;
  std::uint64_t replay_from = 0;
  bool replay = false;
  if (auto it = request.find("from"); it != request.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
      throw std::invalid_argument("from: expected a sequence number");
    const auto from = it->get<std::uint64_t>();
    if (from <= head)
      replay = true, replay_from = from;
    else
      live_from_ = from;
  }
  next_seq_ = replay ? std::max<std::uint64_t>(replay_from, 1) : live_from_;
  subscribed_ = true;
  // `subscribed` goes out first (it starts writing now); the replay follows.
  send_control({{"type", "subscribed"},
                {"head", head},
                {"live_from", live_from_},
                {"durable", host_.durable_seq()}});
  if (replay) replay_ = host_.open_replay(replay_from, head, filter_);
}

void Session::send_control(const nlohmann::json& message) {
  Entry e;
  wire::append_frame(e.owned, wire::FrameType::kControl,
                     message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  e.bytes = e.owned.size();
  push(std::move(e));
}

void Session::offer(const BatchPtr& batch) {
  if (!subscribed_ || closing_ || batch->last_seq() < live_from_) return;
  Entry e{.batch = batch};
  const bool all = filter_.everything() && batch->first_seq() >= live_from_;
  for (std::uint32_t i = 0; i < batch->items.size() && !all; ++i) {
    const auto& item = batch->items[i];
    if (item.seq >= live_from_ && filter_.matches(item.kind, item.uid, item.comm.view())) {
      e.pick.push_back(i);
      e.bytes += item.size;
    }
  }
  if (all) e.bytes = batch->frames.size();
  if (e.bytes == 0) {
    // Nothing wanted, but the subscriber has now seen up to here.
    if (queue_.empty() && !writing_ && !replay_) next_seq_ = batch->last_seq() + 1;
    return;
  }
  e.last_seq = batch->last_seq();
  push(std::move(e));

  if (queued_bytes_ > queue_limit_) {
    // Drop what is queued and not yet being written: the subscriber comes back
    // from next_seq_ (which counts only what was written) and reads it from the WAL.
    while (queue_.size() > in_flight_) {
      queued_bytes_ -= queue_.back().bytes;
      queue_.pop_back();
    }
    host_.dropped_slow(*this);
    // A slow reader gets longer to reach its bye than a stop allows; what it
    // holds meanwhile is one write, not the queue.
    close_with("slow subscriber: its queue passed " + std::to_string(queue_limit_) + " bytes",
               std::chrono::seconds(10));
  } else if (!told_slow_ && queued_bytes_ > queue_limit_ / 2) {
    told_slow_ = true;
    send_control({{"type", "slow"}, {"queued_bytes", queued_bytes_}, {"limit", queue_limit_}});
  }
  host_.queue_changed();
}

void Session::durable(std::uint64_t seq) {
  if (!subscribed_ || closing_) return;
  send_control({{"type", "durable"}, {"seq", seq}});
}

void Session::push(Entry entry) {
  queued_bytes_ += entry.bytes;
  queue_.push_back(std::move(entry));
  write_more();
}

void Session::write_more() {
  if (writing_ || closed_) return;
  buffers_.clear();
  in_flight_ = 0;
  // A replay goes first: the live events queued meanwhile all come after it.
  if (replay_) {
    replay_buf_.clear();
    if (!replay_->next(replay_buf_, 256 << 10)) {
      next_seq_ = std::max(next_seq_, replay_->last_seq() + 1);
      replay_.reset();
    }
    if (!replay_buf_.empty()) buffers_.push_back(asio::buffer(replay_buf_));
  }
  const bool replaying = !buffers_.empty();
  // Else up to 1 MiB of queued entries in one gathered write.
  for (std::size_t bytes = 0; !replaying && in_flight_ < queue_.size() && bytes < (1u << 20);
       ++in_flight_) {
    const Entry& e = queue_[in_flight_];
    bytes += e.bytes;
    if (!e.batch)
      buffers_.push_back(asio::buffer(e.owned));
    else if (e.pick.empty())
      buffers_.push_back(asio::buffer(e.batch->frames));
    else
      for (auto i : e.pick) buffers_.push_back(asio::buffer(e.batch->frame(e.batch->items[i])));
  }
  if (buffers_.empty()) {
    if (closing_) finish();
    return;
  }
  writing_ = true;
  // Bytes wait from now: a stall counts from here, not from an idle time.
  if (!unread_) progress_at_ = std::chrono::steady_clock::now();
  unread_ = true;
  asio::async_write(socket_, buffers_,
                    [self = shared_from_this(), replaying](error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) return self->finish();
                      self->outq_after_write_ = self->unread_in_socket();
                      if (replaying && self->replay_) {
                        self->next_seq_ = std::max(self->next_seq_, self->replay_->last_seq() + 1);
                      }
                      for (; self->in_flight_ > 0; --self->in_flight_) {
                        const Entry& e = self->queue_.front();
                        if (e.last_seq) self->next_seq_ = e.last_seq + 1;
                        self->queued_bytes_ -= e.bytes;
                        self->queue_.pop_front();
                      }
                      if (!replaying) self->host_.queue_changed();
                      if (self->queued_bytes_ <= self->queue_limit_ / 4) self->told_slow_ = false;
                      self->write_more();
                    });
}

int Session::unread_in_socket() {
  int outq = 0;
  if (::ioctl(socket_.native_handle(), SIOCOUTQ, &outq) != 0) outq = 0;
  return outq;
}

bool Session::stalled(std::chrono::steady_clock::time_point now,
                      std::chrono::milliseconds stall_after) {
  if (closed_ || !subscribed_) return false;
  const int outq = unread_in_socket();
  unread_ = writing_ || queued_bytes_ > 0 || outq > 0;
  // Our writes only raise the socket's unread bytes; below their level after
  // our last write, the peer has read.
  const bool read_some = outq < outq_after_write_;
  outq_after_write_ = outq;
  if (!unread_ || read_some) {
    progress_at_ = now;
    return false;
  }
  return now - progress_at_ >= stall_after;
}

void Session::close_with(const std::string& reason, std::chrono::milliseconds grace) {
  if (closing_ || closed_) return;
  nlohmann::json bye{{"type", "bye"}, {"reason", reason}};
  if (subscribed_) {
    // Where to come back from: after all that goes out before the bye.
    std::uint64_t resume = next_seq_;
    if (replay_) {
      resume = std::max(resume, replay_->last_seq() + 1);  // its chunk in flight goes out
      replay_.reset();
    }
    for (const Entry& e : queue_)
      if (e.last_seq) resume = std::max(resume, e.last_seq + 1);
    bye["resume_from"] = resume;
  }
  send_control(bye);
  closing_ = true;
  // A peer that does not read would hold the bye forever.
  close_timer_.expires_after(grace);
  close_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->finish();
  });
  write_more();
}

void Session::refuse(const std::string& reason) {
  Entry e;
  wire::append_frame(e.owned, wire::FrameType::kControl,
                     nlohmann::json{{"type", "error"}, {"message", reason}}.dump(
                         -1, ' ', false, nlohmann::json::error_handler_t::replace));
  // Best effort, without waiting: the peer may not be reading.
  error_code ignored;
  socket_.non_blocking(true, ignored);
  socket_.write_some(asio::buffer(e.owned), ignored);
  finish();
}

void Session::finish() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  close_timer_.cancel();
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
  queue_.clear();
  queued_bytes_ = 0;
  host_.closed(this);
}

}  // namespace procmond
