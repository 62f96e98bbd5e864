#include "events/event_time.hpp"

#include <fmt/format.h>

#include <ctime>

namespace procmond {

std::string format_rfc3339_ns(std::int64_t unix_ns) {
  constexpr std::int64_t kNs = 1'000'000'000;
  // Floor division: a time before 1970 still has nanoseconds in [0, 1e9).
  std::int64_t secs = unix_ns / kNs;
  std::int64_t nanos = unix_ns % kNs;
  if (nanos < 0) {
    nanos += kNs;
    --secs;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
}

}  // namespace procmond
