#include "wal_replay.hpp"

#include "events/event_codec.hpp"
#include "wire.hpp"

namespace procmond {

WalReplay::WalReplay(const std::filesystem::path& dir, std::uint64_t from, std::uint64_t up_to,
                     EventFilter filter)
    : reader_(dir, from), up_to_(up_to), filter_(std::move(filter)) {}

bool WalReplay::next(std::string& frames, std::size_t max_bytes) {
  while (!done_ && frames.size() < max_bytes) {
    records_.clear();
    if (!reader_.next_batch(records_, up_to_, max_bytes - frames.size())) done_ = true;
    for (std::string_view payload : records_) {
      const std::uint64_t seq = peek_seq(payload);
      last_seq_ = seq;
      if (!filter_.everything()) {
        if (!decode(payload, event_) || !filter_.matches(event_.kind, event_.uid, event_.comm))
          continue;
      }
      wire::append_frame(frames, wire::FrameType::kEvent, payload);
    }
    if (records_.empty()) break;
  }
  return !done_;
}

}  // namespace procmond
