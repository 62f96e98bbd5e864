#pragma once
// The collector on a thread of its own: a cycle over 10,000 processes takes
// tens of milliseconds, which the event loop must not spend away from its
// sockets and the connector. One cycle at a time; the snapshot it hands back
// stays valid until the next collect().

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "collector.hpp"

namespace procmond {

class Poller {
 public:
  // Called on the home context: the snapshot (null on error, with `error`
  // saying why) and the CLOCK_MONOTONIC time the cycle began.
  using Done = std::function<void(const Snapshot* snapshot, std::uint64_t began_mono_ns,
                                  const std::string& error)>;

  Poller(std::unique_ptr<Collector> collector, boost::asio::io_context& home);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  void collect(Done done);
  void stop();  // waits for a cycle under way

 private:
  std::unique_ptr<Collector> collector_;
  boost::asio::io_context& home_;
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

std::uint64_t monotonic_ns();
std::int64_t realtime_ns();

}  // namespace procmond
