#!/usr/bin/env bash
# instruments.sh: macOS's profilers behind the wrappers' common interface:
# Instruments' Time Profiler and Allocations through xctrace, and leaks(1).
# Runs on macOS only, whose bash is 3.2: lib.sh's parse_common, die/fail/say
# and perfkit are 3.2-safe (checked with bash 3.2.48), its need (apt) and
# run_until_stopped (GNU env) are Linux-only and not used here.
set -u

# shellcheck source=SCRIPTDIR/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

usage() {
  cat <<'EOF'
instruments.sh: profile a program on macOS with Instruments (xctrace) or leaks(1),
into perfkit metrics. macOS only (Xcode 12 or later for xctrace); --help runs anywhere.

instruments.sh [OPTIONS] [--template time|alloc|leaks] -- CMD ARGS
instruments.sh [OPTIONS] [--template time|alloc|leaks] --pid PID
  --template time    Time Profiler (default): xcrun xctrace record --template 'Time Profiler'
                     --launch -- CMD (or --attach PID); the time-profile table exported to
                     XML; metric cpu.samples (1 kHz samples of the target, i.e. its CPU
                     time), stacks.folded, and flamegraph.svg when `perfkit profile
                     flamegraph` exists
  --template alloc   Allocations: xctrace record --template Allocations; the track's
                     Statistics exported; metrics heap.allocations (malloc-heap
                     allocations while recording) and heap.persistent_bytes (heap still
                     allocated when recording stopped). No heap.peak_bytes: no view
                     xctrace exports gives the peak
  --template leaks   leaks(1): MallocStackLogging=1 leaks --atExit -- CMD (examined when it
                     exits), or leaks PID (examined now, after --seconds if given); metrics
                     heap.leaked_bytes (unreachable blocks), heap.leaked_blocks,
                     heap.peak_footprint_bytes (leaks' "Physical footprint (peak)")
  -o, --output DIR   where its files go (default ./profile-instruments); an old
                     time.trace or alloc.trace there is replaced
  -d, --seconds S    time, alloc: stop recording after S seconds (xctrace --time-limit);
                     else at CMD's end, or on Ctrl-C / SIGTERM (xctrace then saves)
  -p, --pid PID      attach to a running process instead of starting CMD
  --prefix P         metric names begin P.
  -h, --help

Writes into DIR: the .trace (opens in Instruments), toc.xml and the exported table,
or leaks.txt; metrics.json, files.json, summary.md (printed at the end).
Python: perfkit needs 3.11+ with numpy, jsonschema, psutil; on macOS `python3` from
PATH is used unless PERFKIT_PYTHON names one (/usr/bin/python3 there is Apple's 3.9).
Exit 0: profiled; 1: the profile failed; 2: bad arguments, not macOS, or a missing tool.
EOF
}

TEMPLATE="time"
parse_common instruments "$@"
set -- ${EXTRA[@]+"${EXTRA[@]}"}
while [ $# -gt 0 ]; do
  case $1 in
    --template) [ $# -ge 2 ] || die "$1 needs time, alloc or leaks"; TEMPLATE=$2; shift 2 ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done
case $TEMPLATE in
  time | alloc | leaks) ;;
  *) die "--template: '$TEMPLATE' is not time, alloc or leaks" ;;
esac
[ "$(uname -s)" = Darwin ] ||
  die "needs macOS (xctrace and leaks are Apple's); this is $(uname -s): use perf.sh, heaptrack.sh here"
needs_target
if [ "$TEMPLATE" = leaks ] && [ ${#CMD[@]} -gt 0 ] && [ -n "$DURATION" ]; then
  die "--seconds with --template leaks -- CMD: leaks examines CMD when it exits; give --pid to examine a running process after S seconds"
fi

# Apple's /usr/bin/python3 is 3.9 without numpy: perfkit wants another.
[ -n "${PERFKIT_PYTHON:-}" ] || PY=$(command -v python3 || echo python3)

need_mac() {  # need_mac TOOL HOW-TO-GET-IT
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}
if [ "$TEMPLATE" = leaks ]; then
  need_mac leaks "it ships with macOS in /usr/bin; reinstall the command line tools: xcode-select --install"
else
  need_mac xcrun "xcode-select --install"
  xcrun --find xctrace >/dev/null 2>&1 ||
    die "xctrace is not installed: it comes with Xcode 12 or later (not the command line tools alone); then: sudo xcode-select -s /Applications/Xcode.app"
fi
# Before recording, not after: perfkit's interpreter and its verb are there.
perfkit profile instruments --help >/dev/null || die "perfkit profile instruments does not run with $PY"

# run_stoppable CMD...: runs CMD until it ends, or SIGINT/SIGTERM reaches this
# script, which it passes on as SIGINT (xctrace's and leaks' "stop and
# save"), then waits for CMD to finish writing. macOS has no
# `env --default-signal`, so Python resets SIGINT, which a script's
# background job starts with ignored, before it execs CMD.
run_stoppable() {
  local child status
  "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@" &
  child=$!
  trap 'kill -s INT "$child" 2>/dev/null' INT TERM
  status=0
  wait_child "$child" || status=$?
  trap - INT TERM
  return "$status"
}

prefix_args=()
[ -z "$PREFIX" ] || prefix_args=(--prefix "$PREFIX")

# -- leaks ------------------------------------------------------------------------------------
if [ "$TEMPLATE" = leaks ]; then
  report="$OUT/leaks.txt"
  status=0
  if [ ${#CMD[@]} -gt 0 ]; then
    # MallocStackLogging: each leak's report gets the stack that allocated it.
    MallocStackLogging=1 run_stoppable leaks --atExit -- "${CMD[@]}" >"$report" || status=$?
  else
    if [ -n "$DURATION" ]; then
      sleep "$DURATION" || true
    fi
    leaks "$TARGET_PID" >"$report" || status=$?
  fi
  # leaks exits 0 with no leaks, 1 with leaks, more on an error.
  [ "$status" -le 1 ] || fail "leaks failed (exit $status); its output: $report"
  perfkit profile instruments leaks --report "$report" --out "$OUT" ${prefix_args[@]+"${prefix_args[@]}"} ||
    fail "perfkit could not read $report"
  exit 0
fi

# -- xctrace: time, alloc --------------------------------------------------------------------
if [ "$TEMPLATE" = time ]; then
  template_name="Time Profiler"
  trace="$OUT/time.trace"
else
  template_name="Allocations"
  trace="$OUT/alloc.trace"
fi
rm -rf "$trace" # xctrace refuses to record into an existing trace

record=(xcrun xctrace record --template "$template_name" --output "$trace" --no-prompt)
if [ -n "$DURATION" ]; then
  # xctrace takes whole units: S seconds as milliseconds, at least 1.
  limit_ms=$(awk -v s="$DURATION" 'BEGIN { ms = int(s * 1000 + 0.5); print (ms < 1 ? 1 : ms) }')
  record+=(--time-limit "${limit_ms}ms")
fi
if [ -n "$TARGET_PID" ]; then
  record+=(--attach "$TARGET_PID")
else
  # --launch must come last; the program's output goes to ours.
  record+=(--target-stdout - --launch -- "${CMD[@]}")
fi

say "recording: ${record[*]}"
status=0
run_stoppable "${record[@]}" || status=$?
# Stopped by a signal, xctrace may exit non-zero and still have saved the
# trace: the table of contents says whether it did.
[ -d "$trace" ] || fail "xctrace wrote no trace (exit $status)"
xcrun xctrace export --input "$trace" --toc --output "$OUT/toc.xml" ||
  fail "xctrace exit $status; its trace $trace has no readable table of contents"

pid_args=()
[ -z "$TARGET_PID" ] || pid_args=(--pid "$TARGET_PID")
if [ "$TEMPLATE" = time ]; then
  # Time Profiler's table; newer Xcodes may name it cpu-profile.
  schema=time-profile
  grep -q 'schema="time-profile"' "$OUT/toc.xml" || ! grep -q 'schema="cpu-profile"' "$OUT/toc.xml" ||
    schema=cpu-profile
  table="$OUT/$schema.xml"
  xcrun xctrace export --input "$trace" --output "$table" \
    --xpath "/trace-toc/run[@number=\"1\"]/data/table[@schema=\"$schema\"]" ||
    fail "xctrace could not export the $schema table of $trace"
  perfkit profile instruments time --table "$table" --toc "$OUT/toc.xml" --out "$OUT" \
    ${pid_args[@]+"${pid_args[@]}"} ${prefix_args[@]+"${prefix_args[@]}"} ||
    fail "perfkit could not read $table"
else
  stats="$OUT/alloc-statistics.xml"
  xcrun xctrace export --input "$trace" --output "$stats" \
    --xpath '/trace-toc/run[@number="1"]/tracks/track[@name="Allocations"]/details/detail[@name="Statistics"]' ||
    fail "xctrace could not export the Allocations Statistics of $trace (see its --toc: $OUT/toc.xml)"
  perfkit profile instruments alloc --statistics "$stats" --toc "$OUT/toc.xml" --out "$OUT" \
    ${prefix_args[@]+"${prefix_args[@]}"} ||
    fail "perfkit could not read $stats"
fi
