#pragma once
// Reads whole records from a seq onward, across segments, while a WalWriter
// may be appending on another thread (FORMAT.md, "Corruption and
// resynchronisation"). A corrupt stretch is reported and skipped.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "procmon/unique_fd.hpp"
#include "wal/corruption.hpp"

namespace procmond::wal {

class WalReader {
 public:
  static constexpr std::uint64_t kNoLimit = ~std::uint64_t{0};

  // Records with seq >= from_seq (0: from the oldest segment held). Nothing is
  // opened until the first next_batch.
  WalReader(std::filesystem::path dir, std::uint64_t from_seq);

  // Replaces `out` with the payloads of the next records, up to `max_bytes` of
  // payload (at least one record), none past `up_to_seq`, and within one
  // segment. The views stay valid until the next call. Returns false (out
  // empty) at the end of what is on disk now; call again later to resume:
  // no record is returned twice or skipped.
  // With a writer running, `up_to_seq` must be a seq its append() has
  // returned true for (its last_seq()): bytes past that record may be a write
  // in progress. kNoLimit is for a log nobody writes.
  bool next_batch(std::vector<std::string_view>& out, std::uint64_t up_to_seq,
                  std::size_t max_bytes = 1 << 20);

  const std::vector<Corruption>& corruptions() const { return corruptions_; }
  // The last record returned or passed over (below from_seq); 0 before any.
  std::uint64_t last_seq() const { return last_seq_; }

 private:
  bool open_next_segment();
  bool later_segment_exists() const;
  bool fill(std::size_t bytes);
  void fill_to_end();
  void close_segment();
  std::string_view buffered() const;

  std::filesystem::path dir_;
  std::uint64_t from_seq_;
  std::uint64_t last_seq_ = 0;
  bool started_ = false;  // a segment was chosen: later ones follow seg_first_seq_
  procmon::UniqueFd seg_fd_;
  std::filesystem::path seg_path_;
  std::uint64_t seg_first_seq_ = 0;
  bool seg_final_ = false;    // a newer segment exists: this one is written no more
  std::uint64_t offset_ = 0;  // the next unread record in the segment
  std::string buf_;           // segment bytes from buf_offset_
  std::uint64_t buf_offset_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> pending_;  // payloads in buf_ (index, size)
  std::vector<Corruption> corruptions_;
};

}  // namespace procmond::wal
