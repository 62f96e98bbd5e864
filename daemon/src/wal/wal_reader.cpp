#include "wal/wal_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "wal/record_format.hpp"
#include "wal/segment_files.hpp"

namespace procmond::wal {
namespace {
constexpr std::size_t kReadChunk = 256 << 10;

std::uint64_t file_size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}
}  // namespace

WalReader::WalReader(std::filesystem::path dir, std::uint64_t from_seq)
    : dir_(std::move(dir)), from_seq_(from_seq) {}

std::string_view WalReader::buffered() const {
  return std::string_view(buf_).substr(static_cast<std::size_t>(offset_ - buf_offset_));
}

bool WalReader::next_batch(std::vector<std::string_view>& out, std::uint64_t up_to_seq,
                           std::size_t max_bytes) {
  out.clear();
  pending_.clear();
  // Bytes past what was consumed are read again: a failed append may have
  // been truncated and rewritten since.
  buf_.clear();
  buf_offset_ = offset_;
  std::size_t bytes = 0;
  while (last_seq_ < up_to_seq && (pending_.empty() || bytes < max_bytes)) {
    if (!seg_fd_ && !open_next_segment()) break;
    fill(kRecordHeaderSize);
    DecodedRecord r = decode_record(buffered());
    if (r.status == RecordStatus::kIncomplete && r.size > kRecordHeaderSize && fill(r.size))
      r = decode_record(buffered());
    if (r.status == RecordStatus::kWhole && r.seq > last_seq_) {
      if (r.seq > up_to_seq) break;
      if (r.seq >= from_seq_) {
        pending_.emplace_back(static_cast<std::size_t>(offset_ - buf_offset_) + kRecordHeaderSize,
                              r.payload.size());
        bytes += r.payload.size();
      }
      offset_ += r.size;
      last_seq_ = r.seq;
      continue;
    }
    const char* why = r.status == RecordStatus::kWhole     ? "sequence number not increasing"
                      : r.status == RecordStatus::kCorrupt ? r.why
                                                           : "record cut short";
    if (r.status != RecordStatus::kIncomplete) {
      fill_to_end();
      const std::size_t at = static_cast<std::size_t>(offset_ - buf_offset_);
      const std::size_t next = find_next_record(buf_, at + 1, last_seq_);
      if (next != kNotFound) {
        corruptions_.push_back({seg_path_, offset_, next - at, why});
        offset_ += next - at;
        continue;
      }
    }
    // Nothing whole follows here. In the newest segment that may be a write in
    // progress: wait. Once a newer segment exists this one is finished; read
    // it again (it may have grown since) before calling the rest corrupt.
    if (!seg_final_) {
      if (!later_segment_exists()) break;
      seg_final_ = true;
      buf_.resize(static_cast<std::size_t>(offset_ - buf_offset_));
      continue;
    }
    if (!pending_.empty()) break;  // the views need buf_: move on next call
    const std::uint64_t size = file_size(seg_fd_.get());
    if (size > offset_) corruptions_.push_back({seg_path_, offset_, size - offset_, why});
    close_segment();
  }
  out.reserve(pending_.size());
  for (const auto& [at, size] : pending_) out.emplace_back(buf_.data() + at, size);
  return !out.empty();
}

bool WalReader::open_next_segment() {
  for (;;) {
    std::error_code ec;
    const std::vector<SegmentFile> segments = list_segments(dir_, ec);
    if (ec) return false;
    auto it = segments.begin();
    if (!started_) {
      // The last segment named <= from_seq holds it (names are lower bounds).
      auto after = std::upper_bound(
          segments.begin(), segments.end(), from_seq_,
          [](std::uint64_t seq, const SegmentFile& s) { return seq < s.first_seq; });
      it = after == segments.begin() ? after : std::prev(after);
    } else {
      it = std::find_if(segments.begin(), segments.end(),
                        [&](const SegmentFile& s) { return s.first_seq > seg_first_seq_; });
    }
    if (it == segments.end()) return false;
    const bool newest = std::next(it) == segments.end();
    procmon::UniqueFd fd(::open(it->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT) continue;  // removed by retention meanwhile
      return false;
    }
    char header[kSegmentHeaderSize];
    const ssize_t n = ::pread(fd.get(), header, sizeof header, 0);
    if (n < 0) return false;
    const char* why = check_segment_header(std::string_view(header, static_cast<std::size_t>(n)));
    if (why != nullptr && newest && n < static_cast<ssize_t>(sizeof header))
      return false;  // being created: try again later
    started_ = true;
    seg_first_seq_ = it->first_seq;
    if (why != nullptr) {
      corruptions_.push_back({it->path, 0, file_size(fd.get()), why});
      continue;
    }
    seg_fd_ = std::move(fd);
    seg_path_ = it->path;
    seg_final_ = false;
    offset_ = kSegmentHeaderSize;
    buf_.clear();
    buf_offset_ = offset_;
    return true;
  }
}

bool WalReader::later_segment_exists() const {
  std::error_code ec;
  const std::vector<SegmentFile> segments = list_segments(dir_, ec);
  return std::any_of(segments.begin(), segments.end(),
                     [&](const SegmentFile& s) { return s.first_seq > seg_first_seq_; });
}

void WalReader::close_segment() {
  seg_fd_.reset();
  buf_.clear();
  buf_offset_ = 0;
  offset_ = 0;
}

bool WalReader::fill(std::size_t bytes) {
  std::size_t at = static_cast<std::size_t>(offset_ - buf_offset_);
  if (buf_.size() - at >= bytes) return true;
  if (pending_.empty() && at > 0) {  // nothing refers to what was consumed
    buf_.erase(0, at);
    buf_offset_ = offset_;
    at = 0;
  }
  while (buf_.size() - at < bytes) {
    const std::size_t have = buf_.size();
    const std::size_t want = std::max(bytes - (have - at), kReadChunk);
    buf_.resize(have + want);
    const ssize_t n =
        ::pread(seg_fd_.get(), buf_.data() + have, want, static_cast<off_t>(buf_offset_ + have));
    if (n < 0 && errno == EINTR) {
      buf_.resize(have);
      continue;
    }
    buf_.resize(have + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n <= 0) return false;  // the end of what is written (or a read error: retried next call)
  }
  return true;
}

void WalReader::fill_to_end() {
  while (fill(buf_.size() - static_cast<std::size_t>(offset_ - buf_offset_) + kReadChunk)) {
  }
}

}  // namespace procmond::wal
