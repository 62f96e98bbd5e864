#pragma once
// Appends records to the WAL's newest segment, rotates and retains segments,
// and recovers the log at open (FORMAT.md). Single-threaded: the daemon calls
// it from its writer thread; readers (WalReader) may run on other threads.

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "procmon/unique_fd.hpp"
#include "wal/corruption.hpp"
#include "wal/record_format.hpp"
#include "wal/sync_policy.hpp"

namespace procmond::wal {

struct WalOptions {
  std::filesystem::path dir;
  SyncPolicy sync = SyncPolicy::kBatch;
  std::uint64_t segment_bytes = 16 << 20;  // rotate once the active segment reaches this
  std::uint64_t retain_bytes = 1ull << 30;
  std::chrono::seconds retain_age = std::chrono::hours(24 * 7);
};

struct RecoveryReport {
  std::uint64_t last_seq = 0;  // 0: the log is empty
  std::uint64_t records = 0;   // whole records in the segment(s) scanned
  std::uint64_t torn_bytes_cut = 0;
  std::uint64_t segments_removed = 0;   // newest segments without a whole record
  std::vector<Corruption> corruptions;  // kept in place: readers skip them
};

struct WalCounters {
  std::uint64_t bytes = 0;  // appended, headers included
  std::uint64_t records = 0;
  std::uint64_t fsyncs = 0;  // fdatasyncs of segments (directory fsyncs not counted)
  std::uint64_t rotations = 0;
  std::uint64_t segments_removed = 0;  // by retention
  std::uint64_t failures = 0;          // appends and syncs that returned false
};

class WalWriter {
 public:
  // Opens (creating if need be) the directory, takes its lock (flock: one
  // writer per directory), recovers the newest segment (cuts a torn tail,
  // fdatasync'd) and applies retention. Throws std::system_error naming the
  // path when the directory cannot be created, locked or written, and
  // std::runtime_error when a segment is not ours (bad magic or version).
  static WalWriter open(const WalOptions& options, RecoveryReport* report = nullptr);

  WalWriter(WalWriter&&) noexcept = default;
  WalWriter& operator=(WalWriter&&) noexcept = default;
  ~WalWriter() = default;

  std::uint64_t last_seq() const { return last_seq_; }
  const WalCounters& counters() const { return counters_; }
  const WalOptions& options() const { return options_; }

  // Appends the batch (each payload begins with its seq, u64 LE, strictly
  // greater than last_seq() and the one before), all or nothing, with one
  // pwritev per 512 records, to one segment (rotating first if the active one
  // is full). Under kAlways it is fdatasync'd before returning. Returns false
  // with errno set (EINVAL: a payload out of order or of bad size; ENOSPC,
  // EIO...): nothing of the batch is kept (a short write is truncated away),
  // and the writer stays usable.
  bool append(std::span<const std::string_view> payloads);
  // fdatasync of the active segment, and fsync of the directory after a
  // rotation or removal; a no-op when nothing is pending. false + errno on failure.
  bool sync();
  // The group commit: append, then sync unless the policy is kNever.
  bool commit(std::span<const std::string_view> payloads);

 private:
  explicit WalWriter(const WalOptions& options) : options_(options) {}
  void recover(RecoveryReport& report);
  void open_active_for_append(const std::filesystem::path& path, std::uint64_t size);
  bool create_segment(std::uint64_t first_seq);
  bool rotate(std::uint64_t first_seq);
  void apply_retention();
  bool write_batch(std::span<const std::string_view> payloads);
  bool fail();

  struct ClosedSegment {
    std::filesystem::path path;
  };

  WalOptions options_;
  procmon::UniqueFd dir_fd_;  // also holds the flock
  procmon::UniqueFd active_fd_;
  std::filesystem::path active_path_;
  std::uint64_t active_size_ = 0;  // the end of the last whole record
  std::uint64_t last_seq_ = 0;
  bool unsynced_ = false;             // records written since the last fdatasync
  bool dir_dirty_ = false;            // a segment created or removed since the last directory fsync
  bool tail_dirty_ = false;           // a failed truncate may have left bytes past active_size_
  std::deque<ClosedSegment> closed_;  // older segments, oldest first
  WalCounters counters_;
  std::vector<RecordHeader> headers_;  // reused by append: no allocation once warm
  std::vector<iovec> iov_;
};

}  // namespace procmond::wal
