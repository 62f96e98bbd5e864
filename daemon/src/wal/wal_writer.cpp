#include "wal/wal_writer.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <stdexcept>
#include <string>

#include "wal/file_io.hpp"
#include "wal/retention.hpp"
#include "wal/segment_files.hpp"

namespace procmond::wal {
namespace {

// The scan of one segment's bytes (header included): where its whole records end.
struct SegmentScan {
  std::uint64_t whole_end = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t records = 0;
};

SegmentScan scan_segment(std::string_view bytes, const std::string& path,
                         std::vector<Corruption>& corruptions) {
  SegmentScan s;
  std::size_t pos = kSegmentHeaderSize;
  s.whole_end = pos;
  while (pos < bytes.size()) {
    const DecodedRecord r = decode_record(bytes.substr(pos));
    if (r.status == RecordStatus::kWhole && r.seq > s.last_seq) {
      pos += r.size;
      s.whole_end = pos;
      s.last_seq = r.seq;
      ++s.records;
      continue;
    }
    const std::size_t next = find_next_record(bytes, pos + 1, s.last_seq);
    if (next == kNotFound) break;  // the torn tail: the caller cuts it
    const char* why = r.status == RecordStatus::kWhole     ? "sequence number not increasing"
                      : r.status == RecordStatus::kCorrupt ? r.why
                                                           : "record cut short";
    corruptions.push_back({path, pos, next - pos, why});
    pos = next;
  }
  return s;
}

// A segment file whose first bytes are neither our header nor a torn piece of
// it belongs to someone else: never parse or truncate it.
void refuse_stranger(std::string_view bytes, const std::string& path) {
  const SegmentHeader ours = make_segment_header();
  const std::string_view ours_view(ours.data(), ours.size());
  if (bytes.size() < kSegmentHeaderSize) {
    if (ours_view.substr(0, bytes.size()) == bytes) return;  // torn at creation
    throw std::runtime_error("WAL " + path +
                             ": not a procmond WAL segment (bad magic); refusing it");
  }
  if (const char* why = check_segment_header(bytes))
    throw std::runtime_error("WAL " + path + ": " + why + "; refusing it");
}

}  // namespace

WalWriter WalWriter::open(const WalOptions& options, RecoveryReport* report) {
  WalWriter w(options);
  const std::string dir = options.dir.string();
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) throw std::system_error(ec, "WAL " + dir + ": cannot create the directory");
  w.dir_fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!w.dir_fd_) throw wal_error(errno, dir, "cannot open the directory");
  // Root passes this whatever the mode; a read-only mount still fails it.
  if (::access(dir.c_str(), W_OK) != 0)
    throw wal_error(errno, dir, "the directory is not writable");
  if (::flock(w.dir_fd_.get(), LOCK_EX | LOCK_NB) != 0)
    throw wal_error(errno, dir, "cannot lock the directory (another writer holds it?)");

  RecoveryReport local;
  RecoveryReport& r = report != nullptr ? *report : local;
  r = {};
  w.recover(r);
  w.apply_retention();
  return w;
}

void WalWriter::recover(RecoveryReport& report) {
  std::error_code ec;
  std::vector<SegmentFile> segments = list_segments(options_.dir, ec);
  if (ec) throw std::system_error(ec, "WAL " + options_.dir.string() + ": cannot list");
  // Older segments are not scanned, only checked to be ours.
  std::string bytes;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    const std::string path = segments[i].path.string();
    procmon::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw wal_error(errno, path, "cannot open segment");
    bytes.resize(kSegmentHeaderSize);
    const ssize_t n = ::pread(fd.get(), bytes.data(), bytes.size(), 0);
    if (n < 0) throw wal_error(errno, path, "cannot read segment");
    bytes.resize(static_cast<std::size_t>(n));
    refuse_stranger(bytes, path);
  }

  bool removed = false;
  while (!segments.empty()) {
    const std::string path = segments.back().path.string();
    procmon::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) throw wal_error(errno, path, "cannot open segment for writing");
    if (int err = read_to_end(fd.get(), 0, bytes))
      throw wal_error(err, path, "cannot read segment");
    refuse_stranger(bytes, path);
    const SegmentScan scan = bytes.size() < kSegmentHeaderSize
                                 ? SegmentScan{}
                                 : scan_segment(bytes, path, report.corruptions);
    if (scan.records == 0) {
      // Nothing whole: its name may promise a seq the caller will not use next.
      if (bytes.size() > kSegmentHeaderSize)
        report.torn_bytes_cut += bytes.size() - kSegmentHeaderSize;
      if (::unlink(path.c_str()) != 0) throw wal_error(errno, path, "cannot remove empty segment");
      ++report.segments_removed;
      removed = true;
      segments.pop_back();
      continue;
    }
    if (scan.whole_end < bytes.size()) {
      if (::ftruncate(fd.get(), static_cast<off_t>(scan.whole_end)) != 0)
        throw wal_error(errno, path, "cannot cut the torn tail");
      report.torn_bytes_cut += bytes.size() - scan.whole_end;
    }
    // What a crashed writer left in the page cache is made durable now, so
    // that every record recovered is (a crash of the machine next spares it).
    if (::fdatasync(fd.get()) != 0) throw wal_error(errno, path, "cannot sync the last segment");
    report.records = scan.records;
    last_seq_ = scan.last_seq;
    if (scan.whole_end < options_.segment_bytes) {
      active_fd_ = std::move(fd);
      active_path_ = segments.back().path;
      active_size_ = scan.whole_end;
      segments.pop_back();
    }
    break;
  }
  report.last_seq = last_seq_;
  for (auto& s : segments) closed_.push_back({std::move(s.path)});
  if (!active_fd_) {
    if (!create_segment(last_seq_ + 1))
      throw wal_error(errno, options_.dir.string(), "cannot create a segment");
  }
  if ((removed || dir_dirty_) && !sync())
    throw wal_error(errno, options_.dir.string(), "cannot sync the directory");
}

bool WalWriter::create_segment(std::uint64_t first_seq) {
  const std::filesystem::path path = options_.dir / segment_file_name(first_seq);
  procmon::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return false;
  const SegmentHeader header = make_segment_header();
  const ssize_t n = ::pwrite(fd.get(), header.data(), header.size(), 0);
  if (n != static_cast<ssize_t>(header.size())) {
    const int err = n < 0 ? errno : ENOSPC;
    ::unlink(path.c_str());
    errno = err;
    return false;
  }
  active_fd_ = std::move(fd);
  active_path_ = path;
  active_size_ = kSegmentHeaderSize;
  unsynced_ = true;
  dir_dirty_ = true;
  tail_dirty_ = false;
  return true;
}

bool WalWriter::rotate(std::uint64_t first_seq) {
  // The old segment is never written again: make it durable now, once.
  if (options_.sync != SyncPolicy::kNever && unsynced_) {
    if (::fdatasync(active_fd_.get()) != 0) return false;
    ++counters_.fsyncs;
    unsynced_ = false;
  }
  ClosedSegment old{active_path_};
  procmon::UniqueFd old_fd = std::move(active_fd_);
  if (!create_segment(first_seq)) {
    active_fd_ = std::move(old_fd);
    return false;
  }
  closed_.push_back(std::move(old));
  ++counters_.rotations;
  apply_retention();
  return true;
}

void WalWriter::apply_retention() {
  if (closed_.empty()) return;
  std::vector<SegmentUsage> usage;
  usage.reserve(closed_.size());
  for (const auto& s : closed_) {
    std::error_code ec;
    SegmentUsage u;
    u.bytes = std::filesystem::file_size(s.path, ec);
    if (!ec) u.mtime = std::filesystem::last_write_time(s.path, ec);
    if (ec) u = {};  // gone or unreadable: first to go
    usage.push_back(u);
  }
  const std::size_t n =
      segments_to_remove(usage, active_size_, options_.retain_bytes, options_.retain_age,
                         std::filesystem::file_time_type::clock::now());
  for (std::size_t i = 0; i < n; ++i) {
    if (::unlink(closed_.front().path.c_str()) != 0 && errno != ENOENT) {
      ++counters_.failures;
      break;
    }
    closed_.pop_front();
    ++counters_.segments_removed;
    dir_dirty_ = true;
  }
}

bool WalWriter::append(std::span<const std::string_view> payloads) {
  if (payloads.empty()) return true;
  std::uint64_t seq = last_seq_;
  std::uint64_t total = 0;
  for (const std::string_view p : payloads) {
    const std::uint64_t next = p.size() >= kMinPayload ? load_u64_le(p.data()) : 0;
    if (p.size() < kMinPayload || p.size() > kMaxPayload || next <= seq) {
      errno = EINVAL;
      return fail();
    }
    seq = next;
    total += kRecordHeaderSize + p.size();
  }
  if (tail_dirty_) {
    if (::ftruncate(active_fd_.get(), static_cast<off_t>(active_size_)) != 0) return fail();
    tail_dirty_ = false;
  }
  if (active_size_ >= options_.segment_bytes && active_size_ > kSegmentHeaderSize &&
      !rotate(load_u64_le(payloads.front().data())))
    return fail();
  if (!write_batch(payloads)) return fail();
  active_size_ += total;
  last_seq_ = seq;
  counters_.bytes += total;
  counters_.records += payloads.size();
  unsynced_ = true;
  if (options_.sync == SyncPolicy::kAlways) return sync();
  return true;
}

bool WalWriter::write_batch(std::span<const std::string_view> payloads) {
  headers_.resize(payloads.size());
  iov_.clear();
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    headers_[i] = make_record_header(payloads[i]);
    iov_.push_back({headers_[i].data(), headers_[i].size()});
    // pwritev only reads the buffers; iovec merely lacks the const.
    iov_.push_back({const_cast<char*>(payloads[i].data()), payloads[i].size()});
  }
  std::size_t at = 0;
  auto offset = static_cast<off_t>(active_size_);
  while (at < iov_.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov_.size() - at, IOV_MAX));
    ssize_t n = ::pwritev(active_fd_.get(), &iov_[at], count, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // Never leave a half record: cut back to the last whole one.
      if (::ftruncate(active_fd_.get(), static_cast<off_t>(active_size_)) != 0) tail_dirty_ = true;
      errno = err;
      return false;
    }
    offset += n;
    for (auto left = static_cast<std::size_t>(n); left > 0;) {
      iovec& v = iov_[at];
      const std::size_t step = std::min(left, v.iov_len);
      v.iov_base = static_cast<char*>(v.iov_base) + step;
      v.iov_len -= step;
      left -= step;
      if (v.iov_len == 0) ++at;
    }
  }
  return true;
}

bool WalWriter::sync() {
  if (unsynced_) {
    if (::fdatasync(active_fd_.get()) != 0) return fail();
    ++counters_.fsyncs;
    unsynced_ = false;
  }
  if (dir_dirty_) {
    if (::fsync(dir_fd_.get()) != 0) return fail();
    dir_dirty_ = false;
  }
  return true;
}

bool WalWriter::commit(std::span<const std::string_view> payloads) {
  if (!append(payloads)) return false;
  return options_.sync == SyncPolicy::kNever || sync();
}

bool WalWriter::fail() {
  ++counters_.failures;  // leaves errno as the failed call set it
  return false;
}

}  // namespace procmond::wal
