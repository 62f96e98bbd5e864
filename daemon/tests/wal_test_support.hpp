#pragma once
// Shared by the WAL's tests: a temporary directory, payloads that begin with
// their seq, and reading a whole log back.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "wal/corruption.hpp"
#include "wal/record_format.hpp"
#include "wal/wal_reader.hpp"
#include "wal/wal_writer.hpp"

namespace procmond::wal::testing {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "waltest.XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// seq (u64 LE), then `size - 8` bytes that depend on the seq.
inline std::string make_payload(std::uint64_t seq, std::size_t size = 64) {
  std::string p(size, '\0');
  for (std::size_t i = 0; i < 8; ++i) p[i] = static_cast<char>((seq >> (8 * i)) & 0xFF);
  for (std::size_t i = 8; i < size; ++i) p[i] = static_cast<char>('a' + (seq + i) % 26);
  return p;
}

inline std::uint64_t seq_of(std::string_view payload) {
  return load_u64_le(payload.data());
}

// Appends seqs [first, last] in batches of `batch`; fails the test on a failed append.
inline void append_range(WalWriter& w, std::uint64_t first, std::uint64_t last,
                         std::size_t size = 64, std::size_t batch = 1) {
  std::vector<std::string> owned;
  std::vector<std::string_view> views;
  for (std::uint64_t s = first; s <= last;) {
    owned.clear();
    views.clear();
    for (std::size_t i = 0; i < batch && s <= last; ++i, ++s)
      owned.push_back(make_payload(s, size));
    for (const auto& p : owned) views.push_back(p);
    ASSERT_TRUE(w.append(views)) << "seq " << seq_of(views.front()) << ": " << std::strerror(errno);
  }
}

struct ReadBack {
  std::vector<std::uint64_t> seqs;
  std::vector<Corruption> corruptions;
  bool payloads_ok = true;  // every payload is make_payload(seq, its size)
};

inline ReadBack read_all(const std::filesystem::path& dir, std::uint64_t from_seq = 0,
                         std::uint64_t up_to = WalReader::kNoLimit) {
  ReadBack r;
  WalReader reader(dir, from_seq);
  std::vector<std::string_view> batch;
  while (reader.next_batch(batch, up_to)) {
    for (auto p : batch) {
      r.seqs.push_back(seq_of(p));
      if (p != make_payload(seq_of(p), p.size())) r.payloads_ok = false;
    }
  }
  r.corruptions = reader.corruptions();
  return r;
}

inline std::vector<std::uint64_t> iota_seqs(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t s = first; s <= last; ++s) v.push_back(s);
  return v;
}

inline std::vector<std::filesystem::path> segment_paths(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> v;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".log") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace procmond::wal::testing
