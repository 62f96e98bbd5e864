#include "event_batch.hpp"

#include "events/event_codec.hpp"
#include "wire.hpp"

namespace procmond {

void EventBatch::add(const Event& event) {
  Item item{.offset = static_cast<std::uint32_t>(frames.size()),
            .seq = event.seq,
            .kind = event.kind,
            .uid = event.uid};
  item.comm.assign(event.comm);
  // The length is known only once encoded: write the header, then patch it.
  wire::append_frame(frames, wire::FrameType::kEvent, {});
  encode(event, frames);
  item.size = static_cast<std::uint32_t>(frames.size() - item.offset);
  const std::uint32_t n = item.size - 4;
  for (int b = 0; b < 4; ++b) frames[item.offset + b] = static_cast<char>(n >> (8 * b));
  items.push_back(item);
}

std::string_view EventBatch::payload(const Item& i) const {
  return frame(i).substr(wire::kHeaderBytes);
}

}  // namespace procmond
