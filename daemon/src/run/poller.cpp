#include "poller.hpp"

#include <time.h>

#include <boost/asio/post.hpp>

namespace procmond {

std::uint64_t monotonic_ns() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(t.tv_nsec);
}

std::int64_t realtime_ns() {
  timespec t;
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

Poller::Poller(std::unique_ptr<Collector> collector, boost::asio::io_context& home)
    : collector_(std::move(collector)),
      home_(home),
      work_(ctx_.get_executor()),
      thread_([this] { ctx_.run(); }) {}

Poller::~Poller() {
  stop();
}

void Poller::collect(Done done) {
  boost::asio::post(ctx_, [this, done = std::move(done)]() mutable {
    const std::uint64_t began = monotonic_ns();
    const Snapshot* snapshot = nullptr;
    std::string error;
    try {
      snapshot = &collector_->collect();
    } catch (const std::exception& e) {
      error = e.what();
    }
    boost::asio::post(
        home_, [done = std::move(done), snapshot, began, error] { done(snapshot, began, error); });
  });
}

void Poller::stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  thread_.join();
}

}  // namespace procmond
