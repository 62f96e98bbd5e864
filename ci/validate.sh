#!/usr/bin/env bash
# The main job: build, measure, and judge the measurements against the stored
# baseline of this machine. It runs the collector benchmarks (our collector,
# the /proc floor, ps and psutil over the same 1,000 and 10,000 processes),
# loadgen's (10,000 children of each kind, churn for 30 s, stress-ng --fork),
# instruction counts under callgrind (the collector's cycle, a WAL record, a
# sample: portable across machines),
# perfkit's sampler against psutil, procmond run's own (events/s to 1 and 8
# subscribers, WAL writes/s per sync policy, backpressure, start; and, as
# root, 10,000 processes of 50 ms each: what polling and the connector see,
# and how late), and the shipped scenarios (redis-server under
# redis-benchmark; procmond run with a subscriber, idle and under steady,
# churn and burst loads of 1,000 and 10,000 processes); prints their figures and the verdict on each bar; gathers every
# figure into ONE run file, build/validate/run.json, with process runs as the
# unit of repetition (each collector_bench, loadgen and sampler process, each
# scenario repetition); runs the performance suite (perf/, pytest: each test
# measures again and judges against the baseline); then `perfkit compare` of
# the run against baselines/ (or --baseline FILE), printing its table; and
# ends with the report: reports/<date>-<revision>.md and reports/latest.md,
# the run added to reports/history.sqlite for the trend, its path and verdict
# printed last.
#
# Exit status, in this order of precedence:
#   1  a bar was missed or a step failed (a benchmark, a scenario, an import),
#      whatever compare says: the bars are the issues' own, absolute
#   else compare's own: 0 all well, 1 a regression or a missed target, 2 bad
#      input, 3 inconclusive (too few process runs, or an interval across a
#      threshold), 4 no baseline for this machine.
# Everything runs in any case; the status is decided at the end.
#
#   ci/validate.sh [--quick] [--profile] [--baseline FILE]
#     --quick          fewer processes, repetitions and seconds (and so fewer
#                      process runs than compare needs: expect 3, inconclusive);
#                      the performance suite's quick form
#     --profile        also profile the daemon's scenario in its steady phase
#                      (10,000 processes; 1,000 with --quick), once under perf
#                      and once under heaptrack, each a run of its own (a
#                      profiler's cost must not reach the judged figures); their
#                      metrics join the run as profile-perf.* and
#                      profile-heaptrack.*, the report links the flame graph and
#                      the heap summary
#     --baseline FILE  compare against FILE instead of baselines/
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO"
# The revision built and measured, pinned before the build: every run file
# takes it from here, so a commit made while validate measures (it takes the
# better part of an hour) does not put its name on these figures.
PERFKIT_REVISION="${PERFKIT_REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
export PERFKIT_REVISION

procs=1000,10000
invocations=3           # collector_bench processes per process count: its process runs
reps=3                  # repetitions within each
# Every loadgen configuration but 10,000 CPU burners: on 2 cores they drove the
# load average past 7,800 and took 13 minutes a run (loadgen_bench's 600 s
# timeout ended it); `loadgen_bench.py --configs cpu/zygote` runs it alone.
loadgen_configs=(--configs sleep/spawn,sleep/clone,sleep/zygote,mem/zygote,tree/zygote,exec/zygote)
loadgen_args=(--reps 3 "${loadgen_configs[@]}")
sampler_args=(--seconds 5 --reps 3)
scenario_reps=3
daemon_invocations=3    # daemon_bench processes: its process runs
scenarios=(harness/scenarios/redis.toml harness/scenarios/procmond-daemon.toml)
compare_args=()
perf_marks="perf"        # the performance suite whole
perf_form="whole"
profile=no
profile_phase=steady10000
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) procs=1000; invocations=2; reps=2
             loadgen_args=(--reps 1 --churn-seconds 5 --stress-seconds 3 "${loadgen_configs[@]}")
             sampler_args=(--seconds 2 --reps 1 --tree 200); scenario_reps=1; daemon_invocations=1
             scenarios=(harness/scenarios/redis.toml)
             perf_marks="perf and quick"; perf_form="quick form"; profile_phase=steady1000 ;;
    --profile) profile=yes ;;
    --baseline) [ $# -ge 2 ] || { echo "ci/validate.sh: --baseline needs a FILE" >&2; exit 2; }
                compare_args=(--baseline "$2"); shift ;;
    *) echo "usage: ci/validate.sh [--quick] [--profile] [--baseline FILE]" >&2; exit 2 ;;
  esac
  shift
done

echo "== build (RelWithDebInfo) into build/"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo

out=build/validate
rm -rf "$out"
mkdir -p "$out"
run=$out/run.json
status=0
perfkit() { PYTHONPATH=harness "$PY" -m perfkit "$@"; }
# add_to_run FORMAT FILE... [--prefix P]: into the run file, each FILE a process run.
add_to_run() {
  local append=()
  [ -e "$run" ] && append=(--append)
  perfkit import "$@" -o "$run" "${append[@]}"
}
took() { echo "== ($1 took $((SECONDS - $2)) s)"; }

t=$SECONDS
files=()
for i in $(seq "$invocations"); do
  for n in ${procs//,/ }; do
    echo "== collector_bench --procs=$n, process run $i/$invocations: $reps repetitions, interleaved"
    # Random interleaving spreads the machine's drifting noise over every
    # contender alike; each invocation spawns its children once and is one
    # process run: the level at which the next CI run will differ.
    build/bin/collector_bench --procs="$n" --benchmark_repetitions="$reps" \
      --benchmark_enable_random_interleaving=true --benchmark_min_time=0.3 \
      --benchmark_display_aggregates_only=true \
      --benchmark_out="$out/collector_bench_${n}_$i.json" --benchmark_out_format=json
    files+=("$out/collector_bench_${n}_$i.json")
  done
done
echo
echo "== collector figures (medians of $invocations x $reps repetitions; ratios within each process)"
"$PY" daemon/bench/collector_report.py "${files[@]}" --metrics "$out/collector_ratios.json" \
  || status=1
add_to_run google-benchmark "${files[@]}" --prefix collector || status=1
add_to_run metrics-json "$out/collector_ratios.json" || status=1
took collector "$t"

echo
echo "== loadgen: 10,000 children of each kind (but cpu) and spawn path, churn, stress-ng --fork as nobody"
t=$SECONDS
"$PY" loadgen/bench/loadgen_bench.py --bin-dir build/bin "${loadgen_args[@]}" \
  --out "$out/loadgen_bench.json" --metrics "$out/loadgen_metrics.json" || status=1
add_to_run metrics-json "$out/loadgen_metrics.json" || status=1
took loadgen "$t"

echo
echo "== perfkit's sampler: one sample vs psutil, 1 kHz, its own CPU at 100 Hz, a tree walk"
t=$SECONDS
PYTHONPATH=harness "$PY" harness/bench/sampler_bench.py "${sampler_args[@]}" \
  --metrics "$out/sampler_metrics.json" || status=1
add_to_run metrics-json "$out/sampler_metrics.json" || status=1
took sampler "$t"

echo
echo "== procmond run: events/s, WAL writes/s, backpressure, start (daemon_bench, $daemon_invocations process runs)"
t=$SECONDS
files=()
for i in $(seq "$daemon_invocations"); do
  build/bin/daemon_bench --benchmark_out="$out/daemon_bench_$i.json" --benchmark_out_format=json \
    > "$out/daemon_bench_$i.txt" || status=1
  files+=("$out/daemon_bench_$i.json")
done
"$PY" daemon/bench/daemon_report.py "${files[@]}" --metrics "$out/daemon_metrics.json" || status=1
add_to_run metrics-json "$out/daemon_metrics.json" || status=1
if [ "$(id -u)" -eq 0 ]; then
  echo "== 10,000 processes of 50 ms each: polling alone, the connector, procmond run with each"
  build/bin/short_lived_bench --json "$out/short_lived.json" --metrics "$out/short_lived_metrics.json" \
    || status=1
  add_to_run metrics-json "$out/short_lived_metrics.json" || status=1
else
  echo "== short_lived_bench left out: the netlink proc connector needs root"
fi
took daemon "$t"

echo
echo "== instruction counts under callgrind (profiling/callgrind.sh --preset all): portable"
t=$SECONDS
# Counts of user-space instructions per unit of work hold on any machine of the
# same CPU features: what a baseline of another machine can still judge.
if PROCMOND_BUILD_DIR="$REPO/build" profiling/callgrind.sh --preset all -o "$out/callgrind" \
     >"$out/callgrind.log"; then
  add_to_run metrics-json "$out/callgrind/metrics.json" || status=1
  grep -h '^| `instructions' "$out"/callgrind/*/summary.md || true
else
  tail -5 "$out/callgrind.log"
  status=1
fi
took callgrind "$t"

for scenario in "${scenarios[@]}"; do
  name=$(basename "$scenario" .toml)
  echo
  echo "== scenario $name (python3 -m perfkit run $scenario --repetitions $scenario_reps)"
  t=$SECONDS
  if perfkit run "$scenario" -o "$out/$name.run.json" --repetitions "$scenario_reps" \
       --series "$out/$name.series.npz"; then
    add_to_run run "$out/$name.run.json" --prefix "$name" || status=1
  else
    status=1
  fi
  took "scenario $name" "$t"
done

if [ "$profile" = yes ]; then
  for tool in perf heaptrack; do
    echo
    echo "== profile: procmond-daemon's $profile_phase under $tool (python3 -m perfkit run --profile)"
    t=$SECONDS
    if perfkit run harness/scenarios/procmond-daemon.toml --phases "$profile_phase" \
         --profile "$profile_phase=$tool" -o "$out/profile-$tool.run.json"; then
      add_to_run run "$out/profile-$tool.run.json" --prefix "profile-$tool" || status=1
      cat "$out/profile-$tool.run.profiles/$profile_phase/summary.md" || status=1
    else
      status=1
    fi
    took "profile $tool" "$t"
  done
fi

echo
echo "== the performance suite, $perf_form (pytest perf -m '$perf_marks')"
t=$SECONDS
PROCMOND_BUILD_DIR="$REPO/build" "$PY" -m pytest perf -m "$perf_marks" -rs \
  --junitxml "$out/perf-suite.xml" || status=1
took "the performance suite" "$t"

echo
echo "== compare $run with the baseline (python3 -m perfkit compare)"
verdict=0
perfkit compare "$run" "${compare_args[@]}" --json "$out/compare.json" || verdict=$?

echo
echo "== the report (python3 -m perfkit report), the run kept in reports/history.sqlite"
perfkit history add "$run" --store reports/history.sqlite || status=1
perfkit report "$run" "${compare_args[@]}" -o reports --history reports/history.sqlite \
  --junit "$out/report-junit.xml" --json "$out/report.json" || status=1
if [ "$status" -ne 0 ]; then
  echo "== validate: a bar was missed or a step failed (above): exit 1 whatever compare says ($verdict)"
  exit 1
fi
echo "== validate: every bar met; exit $verdict, compare's"
exit "$verdict"
