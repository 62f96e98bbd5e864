#!/usr/bin/env bash
# The main job. For now: build, run the collector benchmarks (our collector, the
# /proc floor, ps and psutil over the same 1,000 and 10,000 processes) and
# print their figures and the verdict on each bar. Exits 1 when a bar is missed.
#
#   ci/validate.sh [--quick]     --quick: 1,000 processes, 3 repetitions
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO"

procs=1000,10000
reps=7
case "${1:-}" in
  --quick) procs=1000; reps=3 ;;
  "") ;;
  *) echo "usage: ci/validate.sh [--quick]" >&2; exit 2 ;;
esac

echo "== build (RelWithDebInfo) into build/"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo

out=build/validate
mkdir -p "$out"
files=()
for n in ${procs//,/ }; do
  echo "== collector_bench --procs=$n, $reps repetitions, interleaved (spawns and reaps its own children)"
  # Random interleaving spreads the machine's drifting noise over every
  # contender alike; one invocation per N keeps the children spawned once.
  build/bin/collector_bench --procs="$n" --benchmark_repetitions="$reps" \
    --benchmark_enable_random_interleaving=true --benchmark_min_time=0.3 \
    --benchmark_display_aggregates_only=true \
    --benchmark_out="$out/collector_bench_$n.json" --benchmark_out_format=json
  files+=("$out/collector_bench_$n.json")
done
echo
echo "== collector figures (medians of $reps repetitions; ratios within this run)"
"$PY" daemon/bench/collector_report.py "${files[@]}"
