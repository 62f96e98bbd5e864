#!/usr/bin/env bash
# The main job. For now: build, run the collector benchmarks (our collector, the
# /proc floor, ps and psutil over the same 1,000 and 10,000 processes),
# loadgen's (10,000 children of each kind, churn for 30 s, stress-ng --fork),
# perfkit's sampler against psutil, and the shipped scenarios (redis-server
# under redis-benchmark; procmond's collector under 1,000 and 10,000
# processes), and print their figures and the verdict on each bar. Exits 1
# when a bar is missed or a scenario fails, after running everything.
#
#   ci/validate.sh [--quick]     --quick: fewer processes, repetitions and seconds
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO"

procs=1000,10000
reps=7
loadgen_args=(--reps 3)
sampler_args=(--seconds 5 --reps 3)
scenarios=(harness/scenarios/redis.toml harness/scenarios/procmond-collector.toml)
case "${1:-}" in
  --quick) procs=1000; reps=3; loadgen_args=(--reps 1 --churn-seconds 5 --stress-seconds 3)
           sampler_args=(--seconds 2 --reps 1 --tree 200); scenarios=(harness/scenarios/redis.toml) ;;
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
status=0
"$PY" daemon/bench/collector_report.py "${files[@]}" || status=1

echo
echo "== loadgen: 10,000 children of each kind and spawn path, churn, stress-ng --fork as nobody"
"$PY" loadgen/bench/loadgen_bench.py --bin-dir build/bin "${loadgen_args[@]}" \
  --out "$out/loadgen_bench.json" || status=1

echo
echo "== perfkit's sampler: one sample vs psutil, 1 kHz, its own CPU at 100 Hz, a tree walk"
PYTHONPATH=harness "$PY" harness/bench/sampler_bench.py "${sampler_args[@]}" || status=1

for scenario in "${scenarios[@]}"; do
  name=$(basename "$scenario" .toml)
  echo
  echo "== scenario $name (python3 -m perfkit run $scenario)"
  PYTHONPATH=harness "$PY" -m perfkit run "$scenario" -o "$out/$name.run.json" \
    --series "$out/$name.series.npz" || status=1
done
exit $status
