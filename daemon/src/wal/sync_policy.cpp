#include "wal/sync_policy.hpp"

namespace procmond::wal {

std::optional<SyncPolicy> parse_sync_policy(std::string_view text) {
  if (text == "always") return SyncPolicy::kAlways;
  if (text == "batch") return SyncPolicy::kBatch;
  if (text == "never") return SyncPolicy::kNever;
  return std::nullopt;
}

const char* to_string(SyncPolicy policy) {
  switch (policy) {
    case SyncPolicy::kAlways:
      return "always";
    case SyncPolicy::kBatch:
      return "batch";
    case SyncPolicy::kNever:
      return "never";
  }
  return "?";
}

}  // namespace procmond::wal
