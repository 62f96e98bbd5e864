#include "wal_worker.hpp"

#include <cerrno>
#include <utility>

#include <boost/asio/post.hpp>

namespace procmond {

WalWorker::WalWorker(wal::WalWriter writer, wal::SyncPolicy policy,
                     std::chrono::microseconds batch_delay, boost::asio::io_context& home,
                     Written written, Durable durable)
    : writer_(std::move(writer)),
      policy_(policy),
      batch_delay_(batch_delay),
      home_(home),
      written_(std::move(written)),
      durable_(std::move(durable)),
      work_(ctx_.get_executor()),
      delay_timer_(ctx_),
      thread_([this] { ctx_.run(); }) {}

WalWorker::~WalWorker() {
  stop();
}

void WalWorker::submit(std::shared_ptr<EventBatch> batch) {
  boost::asio::post(ctx_, [this, batch = std::move(batch)]() mutable {
    pending_.push_back(std::move(batch));
    // Every batch posted before the write runs joins it.
    if (commit_posted_) return;
    commit_posted_ = true;
    boost::asio::post(ctx_, [this] { commit(); });
  });
}

// Writes what is pending and hands it to the subscribers at once; the fsync
// comes after, alone: under `batch` it waits up to batch_delay for more
// writes to share it (unless enough wait already), so a trickle of events
// (a connector's forks and exits) costs neither an fsync each nor latency.
void WalWorker::commit() {
  commit_posted_ = false;
  std::vector<std::shared_ptr<EventBatch>> batches;
  batches.swap(pending_);
  if (batches.empty()) return;
  bool ok = true;
  std::uint64_t records = 0, bytes = 0;
  if (policy_ == wal::SyncPolicy::kAlways) {
    // One record, one fdatasync (the writer's own under kAlways): what `always` promises.
    for (auto& b : batches)
      for (const auto& item : b->items) {
        std::string_view p = b->payload(item);
        ok = writer_.append({&p, 1}) && ok;
        counters_.syncs.fetch_add(1, std::memory_order_relaxed);
        ++records;
        bytes += p.size();
      }
  } else {
    payloads_.clear();
    for (auto& b : batches)
      for (const auto& item : b->items) {
        payloads_.push_back(b->payload(item));
        bytes += payloads_.back().size();
      }
    records = payloads_.size();
    ok = writer_.append(payloads_);
  }
  if (!ok) {
    counters_.last_errno.store(errno, std::memory_order_relaxed);
    counters_.failed_records.fetch_add(records, std::memory_order_relaxed);
  }
  counters_.records.fetch_add(records, std::memory_order_relaxed);
  counters_.bytes.fetch_add(bytes, std::memory_order_relaxed);
  counters_.commits.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t last = batches.back()->last_seq();
  for (auto& b : batches) b->written = ok;
  // In the WAL now (the page cache holds it through a crash of ours).
  boost::asio::post(
      home_, [this, batches = std::move(batches)]() mutable { written_(std::move(batches)); });
  if (!ok) return;
  unsynced_last_ = last;
  unsynced_records_ += records;
  if (policy_ != wal::SyncPolicy::kBatch || batch_delay_.count() == 0 ||
      unsynced_records_ >= kEnoughRecords) {
    sync_now();
  } else if (!delay_armed_) {
    delay_armed_ = true;
    delay_timer_.expires_after(batch_delay_);
    delay_timer_.async_wait([this](boost::system::error_code) {
      delay_armed_ = false;
      sync_now();
    });
  }
}

// `always` synced each record in append; `never` promises no more than written.
void WalWorker::sync_now() {
  if (unsynced_last_ == 0) return;
  if (policy_ == wal::SyncPolicy::kBatch) {
    counters_.syncs.fetch_add(1, std::memory_order_relaxed);
    if (!writer_.sync()) {
      counters_.last_errno.store(errno, std::memory_order_relaxed);
      return;  // tried again with the next write's sync
    }
  }
  const std::uint64_t seq = std::exchange(unsynced_last_, 0);
  unsynced_records_ = 0;
  boost::asio::post(home_, [this, seq] { durable_(seq); });
}

void WalWorker::stop() {
  if (!thread_.joinable()) return;
  // What waits for the delay is committed now; then run() returns once every
  // submit and commit posted so far has run.
  boost::asio::post(ctx_, [this] {
    delay_timer_.cancel();
    commit();
    sync_now();
  });
  work_.reset();
  thread_.join();
}

}  // namespace procmond
