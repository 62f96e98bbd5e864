#pragma once
// Event times as people and JSON read them.

#include <cstdint>
#include <string>

namespace procmond {

// RFC 3339 in UTC with nanoseconds: "2026-12-06T03:15:14.123456789Z".
std::string format_rfc3339_ns(std::int64_t unix_ns);

}  // namespace procmond
