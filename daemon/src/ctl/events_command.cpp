#include "events_command.hpp"

#include "client.hpp"
#include "events/event_codec.hpp"
#include "events/event_json.hpp"
#include "events/event_text.hpp"

namespace procmond {

int run_events_command(const EventsOptions& o, std::ostream& out, std::ostream& err) {
  try {
    Client client = Client::connect(o.socket);
    nlohmann::json request{{"op", "subscribe"}};
    if (o.from) request["from"] = *o.from;
    if (!o.kinds.empty()) request["kinds"] = o.kinds;
    if (o.uid) request["uid"] = *o.uid;
    if (!o.comm_prefix.empty()) request["comm_prefix"] = o.comm_prefix;
    client.request(request);

    Event event;
    std::uint64_t seen = 0;
    while (auto frame = client.next()) {
      if (frame->type == wire::FrameType::kEvent) {
        if (!decode(frame->body, event)) {
          err << "procmondctl: an event that does not decode (a newer daemon?)" << std::endl;
          return 1;
        }
        if (o.json)
          out << to_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
        else
          out << format_event_line(event) << '\n';
        if (o.count && ++seen == o.count) {
          out.flush();
          return 0;
        }
        // Flushed before the next read would wait: a follower sees each
        // event at once, and a burst is written in large pieces.
        if (!client.ready()) out.flush();
        continue;
      }
      auto msg = nlohmann::json::parse(frame->body, nullptr, false);
      const std::string type = msg.is_object() ? msg.value("type", "") : "";
      if (type == "error") {
        err << "procmondctl: refused: " << msg.value("message", std::string("?")) << std::endl;
        return 1;
      }
      if (type == "slow") {
        err << "procmondctl: procmond says this subscriber is slow ("
            << msg.value("queued_bytes", 0) << " bytes queued)" << std::endl;
      } else if (type == "bye") {
        out.flush();
        const std::string reason = msg.value("reason", std::string("?"));
        err << "procmondctl: procmond closed the stream: " << reason << std::endl;
        return reason.rfind("slow", 0) == 0 ? 3 : 0;
      }
    }
    out.flush();
    err << "procmondctl: the connection to procmond was lost" << std::endl;
    return 1;
  } catch (const std::exception& e) {
    err << "procmondctl: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace procmond
