#include "wal_worker.hpp"

#include <cerrno>

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
    pending_records_ += batch->items.size();
    pending_.push_back(std::move(batch));
    if (commit_posted_) return;
    // Every batch posted before the commit runs joins it. Under `batch`, the
    // first one waits up to batch_delay for company, unless enough came:
    // events that trickle in (a connector's forks and exits) would otherwise
    // cost an fsync each.
    if (policy_ != wal::SyncPolicy::kBatch || batch_delay_.count() == 0 ||
        pending_records_ >= kEnoughRecords) {
      delay_timer_.cancel();
      commit_posted_ = true;
      boost::asio::post(ctx_, [this] { commit(); });
    } else if (!delay_armed_) {
      delay_armed_ = true;
      delay_timer_.expires_after(batch_delay_);
      delay_timer_.async_wait([this](boost::system::error_code) {
        delay_armed_ = false;
        if (!pending_.empty() && !commit_posted_) commit();
      });
    }
  });
}

void WalWorker::commit() {
  commit_posted_ = false;
  pending_records_ = 0;
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
  // In the WAL now (the page cache holds it through a crash of ours): the
  // subscribers may see it while the fsync runs. A crash of the machine is
  // what the `durable` mark that follows the fsync is about.
  boost::asio::post(
      home_, [this, batches = std::move(batches)]() mutable { written_(std::move(batches)); });
  if (ok && policy_ == wal::SyncPolicy::kBatch) {
    ok = writer_.sync();
    counters_.syncs.fetch_add(1, std::memory_order_relaxed);
    if (!ok) counters_.last_errno.store(errno, std::memory_order_relaxed);
  }
  // `always` synced each record in append; `never` promises no more than written.
  if (ok) boost::asio::post(home_, [this, last] { durable_(last); });
}

void WalWorker::stop() {
  if (!thread_.joinable()) return;
  // What waits for the delay is committed now; then run() returns once every
  // submit and commit posted so far has run.
  boost::asio::post(ctx_, [this] {
    delay_timer_.cancel();
    if (!pending_.empty()) commit();
  });
  work_.reset();
  thread_.join();
}

}  // namespace procmond
