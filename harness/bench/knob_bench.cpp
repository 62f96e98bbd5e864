// A benchmark with a slowdown knob, to prove the comparator end to end: a
// fixed amount of dependent arithmetic, made longer by --slowdown=F (0.25 is
// 25 % more work). A multiply-add chain each step of which needs the last, so
// the compiler cannot vectorise or fold it and the work scales exactly.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

double g_slowdown = 0.0;
constexpr std::uint64_t kSteps = 20'000;

void BM_Knob(benchmark::State& state) {
  const auto steps = static_cast<std::uint64_t>(static_cast<double>(kSteps) * (1.0 + g_slowdown));
  std::uint64_t x = 1;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < steps; ++i)
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_Knob);

}  // namespace

int main(int argc, char** argv) {
  // --slowdown is ours; every other flag is Google Benchmark's.
  constexpr std::string_view kFlag = "--slowdown=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with(kFlag)) {
      char* end = nullptr;
      g_slowdown = std::strtod(argv[i] + kFlag.size(), &end);
      if (*end != '\0' || g_slowdown < 0) {
        std::fprintf(stderr, "knob_bench: --slowdown wants a fraction >= 0, not %s\n", argv[i]);
        return 2;
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
