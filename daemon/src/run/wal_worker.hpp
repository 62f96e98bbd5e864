#pragma once
// The WAL writer on a thread of its own, with group commit: batches submitted
// while an fsync is under way are written together and made durable by the
// next one, so the fsync rate bounds the batch rate, not the event rate.
// A batch comes back to the home context (`written`) once it is in the log:
// a subscriber never sees an event a crash of the daemon could lose. Once the
// policy's promise holds (fdatasync'd under always and batch; written under
// never), `durable` says up to which seq: what a crash of the machine spares.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "event_batch.hpp"
#include "wal/wal_writer.hpp"

namespace procmond {

struct WalWorkerCounters {
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> syncs{0};
  std::atomic<std::uint64_t> commits{0};  // group commits (one write and its sync)
  std::atomic<std::uint64_t> failed_records{0};
  std::atomic<int> last_errno{0};
};

class WalWorker {
 public:
  using Written = std::function<void(std::vector<std::shared_ptr<EventBatch>>&&)>;
  using Durable = std::function<void(std::uint64_t last_seq)>;

  WalWorker(wal::WalWriter writer, wal::SyncPolicy policy, std::chrono::microseconds batch_delay,
            boost::asio::io_context& home, Written written, Durable durable);
  ~WalWorker();
  WalWorker(const WalWorker&) = delete;
  WalWorker& operator=(const WalWorker&) = delete;

  void submit(std::shared_ptr<EventBatch> batch);
  // Writes and syncs what is pending, then joins; `written` is posted for it.
  void stop();
  const WalWorkerCounters& counters() const { return counters_; }

 private:
  void commit();
  void sync_now();

  wal::WalWriter writer_;
  const wal::SyncPolicy policy_;
  const std::chrono::microseconds batch_delay_;
  static constexpr std::size_t kEnoughRecords = 1024;  // sync at once past this
  boost::asio::io_context& home_;
  Written written_;
  Durable durable_;
  WalWorkerCounters counters_;
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer delay_timer_;  // WAL thread only, as the rest below
  bool delay_armed_ = false;
  std::uint64_t unsynced_last_ = 0;  // the last seq written and not yet synced
  std::size_t unsynced_records_ = 0;
  std::vector<std::shared_ptr<EventBatch>> pending_;  // WAL thread only
  bool commit_posted_ = false;                        // WAL thread only
  std::vector<std::string_view> payloads_;
  std::thread thread_;
};

}  // namespace procmond
