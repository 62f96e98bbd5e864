// The parsers alone, on fixed text: no /proc, no children. Stable enough for
// callgrind's instruction counts.

#include <benchmark/benchmark.h>

#include <string>

#include "proc_parsers.hpp"

namespace {

const std::string kStatLine =
    "123456 (a) (b) S 1 123456 123456 0 -1 4194560 2271 0 0 0 17 9 0 0 20 0 1 0 88123456 "
    "8888192000 31234 18446744073709551615 94103301230592 94103301349057 140723453229408 0 0 0 "
    "65536 4 65536 1 0 0 17 1 0 0 0 0 0 94103301376944 94103301385896 94103323631616 "
    "140723453233089 140723453233112 140723453233112 140723453235179 0\n";

void BM_ParseStat(benchmark::State& state) {
  procmond::StatFields fields;
  for (auto _ : state) {
    benchmark::DoNotOptimize(procmond::parse_stat(kStatLine, fields));
    benchmark::DoNotOptimize(fields);
  }
}
BENCHMARK(BM_ParseStat);

void BM_ParseStatusUid(benchmark::State& state) {
  std::string status =
      "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nNgid:\t0\nPid:\t42\n"
      "PPid:\t1\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n";
  for (auto _ : state) benchmark::DoNotOptimize(procmond::parse_status_uid(status));
}
BENCHMARK(BM_ParseStatusUid);

}  // namespace

BENCHMARK_MAIN();
