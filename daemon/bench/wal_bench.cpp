// Durable records per second of 200-byte payloads under each sync policy:
// always (append + fdatasync per record), batch (one fdatasync per batch of
// N), never (the page cache only). Writes into a temporary directory on a real
// disk: $WAL_BENCH_DIR, else the temp directory unless it is a tmpfs (where
// fdatasync costs nothing), else the current directory.
#include <benchmark/benchmark.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/vfs.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "wal/wal_writer.hpp"

namespace {

using procmond::wal::SyncPolicy;
using procmond::wal::WalOptions;
using procmond::wal::WalWriter;
namespace fs = std::filesystem;

constexpr std::size_t kPayload = 200;

fs::path bench_parent() {
  if (const char* env = std::getenv("WAL_BENCH_DIR")) return env;
  const fs::path tmp = fs::temp_directory_path();
  struct statfs st {};
  if (::statfs(tmp.c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC) return fs::current_path();
  return tmp;
}

class BenchDir {
 public:
  BenchDir() {
    std::string templ = (bench_parent() / "wal_bench.XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp: " + templ);
    path_ = templ;
  }
  ~BenchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Appends batches of state.range(0) records; `sync` after each batch.
void run(benchmark::State& state, SyncPolicy policy, bool sync) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  BenchDir dir;
  WalOptions o;
  o.dir = dir.path();
  o.sync = policy;
  o.retain_bytes = 256ull << 20;  // bounds the disk a long run takes
  WalWriter w = WalWriter::open(o);
  std::vector<std::string> owned(batch, std::string(kPayload, 'x'));
  std::vector<std::string_view> views(owned.begin(), owned.end());
  std::uint64_t seq = 0;
  for (auto _ : state) {
    for (auto& p : owned) {
      ++seq;
      std::memcpy(p.data(), &seq, sizeof seq);  // little-endian here, as the format wants
    }
    if (!w.append(views) || (sync && !w.sync())) {
      state.SkipWithError((std::string("append/sync failed: ") + std::strerror(errno)).c_str());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  state.counters["fsyncs"] = static_cast<double>(w.counters().fsyncs);
}

void BM_Always(benchmark::State& state) {
  run(state, SyncPolicy::kAlways, true);
}
void BM_Batch(benchmark::State& state) {
  run(state, SyncPolicy::kBatch, true);
}
void BM_Never(benchmark::State& state) {
  run(state, SyncPolicy::kNever, false);
}

BENCHMARK(BM_Always)->Arg(1)->UseRealTime();
BENCHMARK(BM_Batch)->Arg(1)->Arg(10)->Arg(100)->Arg(500)->UseRealTime();
BENCHMARK(BM_Never)->Arg(1)->Arg(100)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
