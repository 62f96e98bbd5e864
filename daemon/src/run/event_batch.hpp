#pragma once
// Events of one moment (a cycle's diff, a connector read, a synthetic burst),
// each encoded once as a wire frame. The WAL writes the frames' bodies; every
// subscriber's queue holds the same immutable batch by reference, so eight
// subscribers cost one copy of the bytes.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.hpp"
#include "procfs/stat.hpp"

namespace procmond {

struct EventBatch {
  struct Item {
    std::uint32_t offset = 0;  // of the frame in `frames`
    std::uint32_t size = 0;    // the whole frame
    std::uint64_t seq = 0;
    EventKind kind = EventKind::kStarted;
    uid_t uid = 0;
    procfs::Comm comm;  // for subscribers' comm-prefix filters, without decoding
  };
  std::string frames;
  std::vector<Item> items;
  bool written = false;  // the WAL holds it (false: the write failed; still published)

  void add(const Event& event);  // encodes; event.seq must already be set
  std::string_view frame(const Item& i) const { return {frames.data() + i.offset, i.size}; }
  std::string_view payload(const Item& i) const;  // the frame's body: the WAL record
  std::uint64_t first_seq() const { return items.empty() ? 0 : items.front().seq; }
  std::uint64_t last_seq() const { return items.empty() ? 0 : items.back().seq; }
};

using BatchPtr = std::shared_ptr<const EventBatch>;

}  // namespace procmond
