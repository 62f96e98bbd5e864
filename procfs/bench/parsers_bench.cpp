// The parsers alone, on fixed text: no /proc, no children. Stable enough for
// callgrind's instruction counts.

#include <benchmark/benchmark.h>

#include <string>

#include "procfs/stat.hpp"
#include "procfs/status.hpp"

namespace {

const std::string kStatLine =
    "123456 (a) (b) S 1 123456 123456 0 -1 4194560 2271 0 0 0 17 9 0 0 20 0 1 0 88123456 "
    "8888192000 31234 18446744073709551615 94103301230592 94103301349057 140723453229408 0 0 0 "
    "65536 4 65536 1 0 0 17 1 0 0 0 0 0 94103301376944 94103301385896 94103323631616 "
    "140723453233089 140723453233112 140723453233112 140723453235179 0\n";

void BM_ParseStat(benchmark::State& state) {
  procfs::StatFields fields;
  for (auto _ : state) {
    benchmark::DoNotOptimize(procfs::parse_stat(kStatLine, fields));
    benchmark::DoNotOptimize(fields);
  }
}
BENCHMARK(BM_ParseStat);

// A whole status file as the kernel prints it: the parser reads every line.
const std::string kStatus =
    "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nNgid:\t0\nPid:\t42\n"
    "PPid:\t1\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
    "FDSize:\t256\nGroups:\t \nNStgid:\t42\nNSpid:\t42\nNSpgid:\t42\nNSsid:\t42\nKthread:\t0\n"
    "VmPeak:\t    3060 kB\nVmSize:\t    3060 kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\n"
    "VmHWM:\t    1732 kB\nVmRSS:\t    1732 kB\nRssAnon:\t     112 kB\nRssFile:\t    1620 kB\n"
    "RssShmem:\t       0 kB\nVmData:\t     360 kB\nVmStk:\t     132 kB\nVmExe:\t      20 kB\n"
    "VmLib:\t    1528 kB\nVmPTE:\t      40 kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       0 kB\n"
    "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t1\nSigQ:\t0/96365\n"
    "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n"
    "SigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\nCapInh:\t0000000000000000\n"
    "CapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n"
    "CapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n"
    "Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\n"
    "voluntary_ctxt_switches:\t10\nnonvoluntary_ctxt_switches:\t3\n";

void BM_ParseStatus(benchmark::State& state) {
  procfs::StatusFields fields;
  for (auto _ : state) {
    benchmark::DoNotOptimize(procfs::parse_status(kStatus, fields));
    benchmark::DoNotOptimize(fields);
  }
}
BENCHMARK(BM_ParseStatus);

}  // namespace

BENCHMARK_MAIN();
