#pragma once
// When the WAL's writes are made durable: the daemon's `wal.sync` setting.

#include <optional>
#include <string_view>

namespace procmond::wal {

enum class SyncPolicy {
  kAlways,  // every append is fdatasync'd before it returns (the writer does it itself)
  kBatch,   // the caller syncs once per batch (WalWriter::commit, or append + sync)
  kNever,   // the kernel writes back when it likes: a crash loses its last seconds
};

// "always", "batch", "never"; nullopt for anything else.
std::optional<SyncPolicy> parse_sync_policy(std::string_view text);
const char* to_string(SyncPolicy policy);

}  // namespace procmond::wal
