#pragma once
// A subscriber's past, read from the WAL: events [from, up_to] that pass its
// filter, framed as on the wire. Read in chunks as the subscriber drains
// them, so a replay of gigabytes costs a chunk of memory.

#include <filesystem>

#include "session.hpp"
#include "wal/wal_reader.hpp"

namespace procmond {

class WalReplay final : public ReplaySource {
 public:
  WalReplay(const std::filesystem::path& dir, std::uint64_t from, std::uint64_t up_to,
            EventFilter filter);
  bool next(std::string& frames, std::size_t max_bytes) override;
  std::uint64_t last_seq() const override { return last_seq_; }

 private:
  wal::WalReader reader_;
  std::uint64_t up_to_;
  EventFilter filter_;
  std::uint64_t last_seq_ = 0;
  bool done_ = false;
  std::vector<std::string_view> records_;
  Event event_;
};

}  // namespace procmond
