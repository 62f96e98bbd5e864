#!/usr/bin/env bash
# perf.sh: where the CPU time goes. perf record -g of a program or a running
# process, folded into a flame graph, with perf stat's counters of the same
# span beside it. The logic is perfkit's (perfkit profile perf-plan, perf).
set -euo pipefail
# shellcheck source=profiling/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
usage: perf.sh [OPTIONS] -- CMD ARGS     profile CMD from its start to its end
       perf.sh [OPTIONS] --pid PID       profile a running process until it ends,
                                         --seconds pass, or Ctrl-C / SIGTERM
  -o, --output DIR     where the files go (default ./profile-perf)
  -d, --seconds S      stop after S seconds (a CMD is then sent SIGTERM)
  --prefix P           metric names begin P.
  -F, --freq HZ        samples a second (default 999: off the kernel's 1000 Hz tick)
  --call-graph MODE    fp (frame pointers, default) or dwarf[,BYTES] (copies the
                       stack at each sample: works without frame pointers, costs
                       far more, and names inlined frames)
  -e, --event EVENT    the event to sample; default: cycles where the machine
                       counts them, else cpu-clock (a timer)
  -h, --help

First finds out what perf may do here (perf_event_paranoid, kptr_restrict,
which counters exist: one `perf stat -x, true`), says what it leaves out and
why, then runs perf record and perf stat on the same process (both attached by
pid, a CMD held back until both count).

Writes into DIR: perf.data, stacks.folded, flamegraph.svg (open it in a
browser), stat.csv, metrics.json (cpu.samples, cpu.task_clock_ms,
cpu.context_switches, cpu.cpu_migrations, cpu.page_faults, cpu.instructions and
cpu.cycles where counted), files.json, summary.md (printed at the end), and
perf's logs. Exit 0: profiled; 1: the profile failed; 2: bad arguments, perf
missing, or not allowed here (the message says how to allow it).
EOF
}

FREQ=999 CALL_GRAPH=fp EVENT=auto
parse_common perf "$@"
set -- "${EXTRA[@]+"${EXTRA[@]}"}"
while [ $# -gt 0 ]; do
  case $1 in
    -F | --freq) [ $# -ge 2 ] || die "$1 needs a number of samples a second"; FREQ=$2; shift 2 ;;
    --call-graph) [ $# -ge 2 ] || die "$1 needs fp or dwarf"; CALL_GRAPH=$2; shift 2 ;;
    -e | --event) [ $# -ge 2 ] || die "$1 needs an event name"; EVENT=$2; shift 2 ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done
[[ $FREQ =~ ^[1-9][0-9]*$ ]] || die "--freq: '$FREQ' is not a positive whole number of Hz"
[[ $CALL_GRAPH =~ ^(fp|dwarf(,[1-9][0-9]*)?)$ ]] || die "--call-graph: '$CALL_GRAPH': fp, dwarf or dwarf,BYTES"
[[ $EVENT =~ ^[A-Za-z0-9_./:=-]+$ ]] || die "--event: '$EVENT' is not an event name (perf list shows them)"
needs_target
need perf linux-perf
OUT=$(cd "$OUT" && pwd)

# What perf may do here: key=value lines, or exit 2 with the line saying how to allow it.
plan=$(perfkit profile perf-plan -o "$OUT" --event "$EVENT" --freq "$FREQ" ${TARGET_PID:+--pid "$TARGET_PID"} \
  2>"$OUT/perf-plan.log") || {
  status=$?  # 2: refused here, or bad input; the message is the line to show
  msg=$(sed 's/^perfkit: profile perf-plan: //; s/^perf\.sh: //' "$OUT/perf-plan.log")
  echo "$ME: ${msg:-perfkit profile perf-plan failed (status $status)}" >&2
  exit "$status"
}
RECORD_EVENT="" STAT_EVENTS=""
while IFS='=' read -r key value; do
  case $key in
    record_event) RECORD_EVENT=$value ;;
    stat_events) STAT_EVENTS=$value ;;
    note) say "$value" ;;
  esac
done <<<"$plan"
[ -n "$RECORD_EVENT" ] || fail "perfkit profile perf-plan gave no event to record"

# A stop asked for while setting up is kept for when the profilers run.
stop_asked=""
trap 'stop_asked=1' INT TERM

LAUNCHED="" STAT_PID="" STARTER="" FIFOS="" go=""
cleanup() {
  # Nothing of ours outlives the wrapper: a CMD still held or running, a profiler.
  [ -z "$STARTER" ] || kill "$STARTER" 2>/dev/null || true
  [ -z "$STAT_PID" ] || kill -INT "$STAT_PID" 2>/dev/null || true
  [ -z "$LAUNCHED" ] || kill -TERM "$LAUNCHED" 2>/dev/null || true
  [ -z "$FIFOS" ] || rm -rf "$FIFOS"
}
trap cleanup EXIT

# perf's control FIFOs (each perf starts with its events off and says "ack"
# once they are on), and the one that lets a CMD go.
FIFOS=$(mktemp -d "${TMPDIR:-/tmp}/perf.sh.XXXXXX")
mkfifo "$FIFOS/record-ctl" "$FIFOS/record-ack" "$FIFOS/stat-ctl" "$FIFOS/stat-ack" "$FIFOS/go"

if [ ${#CMD[@]} -gt 0 ]; then
  # CMD starts held: a shell waiting for a line on the go FIFO, then exec'ing
  # CMD, so that perf record and perf stat attach to it by pid as to any
  # process and count CMD from its first instruction. Not SIGSTOP: a process
  # left stopped by a wrapper that died would stay so; this read fails once
  # no writer is left (the wrapper gone), and CMD never starts.
  # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
  env --default-signal=INT,QUIT bash -c 'read -r _ <"$0" && exec "$@"' "$FIFOS/go" "${CMD[@]}" &
  LAUNCHED=$!
  TARGET=$LAUNCHED
  TARGET_DESC="\`$(printf '%q ' "${CMD[@]}" | sed 's/ $//')\`"
  STAT_HOW="perf stat counted the same process as perf record sampled, both attached before it started."
else
  TARGET=$TARGET_PID
  TARGET_DESC="process $TARGET_PID ($(cat "/proc/$TARGET_PID/comm" 2>/dev/null || echo gone))"
  STAT_HOW="perf stat counted the same process as perf record sampled (both attached by pid, enabled and stopped a few ms apart)."
fi

# Opened read-write, so that neither side blocks on the other's open (and
# after the launcher started: it holds none of them).
exec {rec_ctl}<>"$FIFOS/record-ctl" {rec_ack}<>"$FIFOS/record-ack"
exec {stat_ctl}<>"$FIFOS/stat-ctl" {stat_ack}<>"$FIFOS/stat-ack" {go}<>"$FIFOS/go"

# await_ack FD PID WHAT: perf's "ack" within 30 s, while PID lives.
await_ack() {
  local answer=""
  for _ in $(seq 300); do
    if read -r -t 0.1 answer <&"$1" && [ "$answer" = ack ]; then return 0; fi
    [ -z "$2" ] || kill -0 "$2" 2>/dev/null || return 1
  done
  return 1
}

if [ -n "$STAT_EVENTS" ]; then
  # TERM ignored: a stop sent to the whole process group must not kill it
  # before it writes; it ends at the target's end or on SIGINT.
  env --default-signal=INT,QUIT --ignore-signal=TERM \
    perf stat -x, -o "$OUT/stat.csv" -e "$STAT_EVENTS" -p "$TARGET" -D -1 \
    --control "fifo:$FIFOS/stat-ctl,$FIFOS/stat-ack" >"$OUT/perf-stat.log" 2>&1 &
  STAT_PID=$!
else
  rm -f "$OUT/stat.csv"
  say "no counters to count: perf stat left out"
fi

# In the background, once perf record runs: its events on, then perf stat's
# (so that both count the same span: perf record takes about a second to
# start here), CMD let go, and --seconds counted from there; then both perfs
# stopped at once: perf stat told directly, perf record through the
# wrapper's own stop (run_until_stopped's trap). Without perf record's ack in
# 30 s, the wrapper is told to stop; without perf stat's, it goes without.
(
  nap=""
  trap '[ -z "$nap" ] || kill "$nap" 2>/dev/null; exit 0' TERM
  echo enable >&"$rec_ctl"
  if ! await_ack "$rec_ack" ""; then
    say "perf record did not start counting in 30 s"
    kill -TERM $$
    exit 1
  fi
  if [ -n "$STAT_PID" ]; then
    echo enable >&"$stat_ctl"
    await_ack "$stat_ack" "$STAT_PID" || say "perf stat did not start: no counters"
  fi
  echo "$EPOCHREALTIME" >"$FIFOS/enabled"
  recording_started
  [ -z "$LAUNCHED" ] || echo go >&"$go"
  if [ -n "$DURATION" ]; then
    sleep "$DURATION" &
    nap=$!
    wait "$nap" || exit 0
    echo "$EPOCHREALTIME" >"$FIFOS/stopped"
    [ -z "$STAT_PID" ] || kill -INT "$STAT_PID" 2>/dev/null || true
    kill -TERM $$
  fi
) &
STARTER=$!

if [ -n "$stop_asked" ]; then
  fail "stopped before perf record started"
fi
status=0
# DURATION is the starter's to count (above), not run_until_stopped's.
DURATION="" run_until_stopped INT perf record -N -q -e "$RECORD_EVENT" -F "$FREQ" \
  --call-graph "$CALL_GRAPH" -p "$TARGET" -D -1 \
  --control "fifo:$FIFOS/record-ctl,$FIFOS/record-ack" \
  -o "$OUT/perf.data" >"$OUT/perf-record.log" 2>&1 || status=$?
end=$EPOCHREALTIME
# From here on a stop waits for the files to be written (run_until_stopped
# took its traps away).
trap 'stop_asked=1' INT TERM
kill "$STARTER" 2>/dev/null || true
wait "$STARTER" 2>/dev/null || true
STARTER=""

# perf stat ends with its target; with --pid and a stop, it is told. Told
# with SIGINT, perf (record and stat) writes, then ends by that signal: 130.
if [ -n "$STAT_PID" ]; then
  kill -INT "$STAT_PID" 2>/dev/null || true
  wait "$STAT_PID" || true
  STAT_PID=""
  grep -q , "$OUT/stat.csv" 2>/dev/null ||
    say "perf stat wrote no counts: $(tail -n 3 "$OUT/perf-stat.log" | tr '\n' ' ')"
fi
cmd_status=""
if [ -n "$LAUNCHED" ]; then
  # As perf record does with its own workload: a CMD still running is ended.
  kill -TERM "$LAUNCHED" 2>/dev/null || true
  cmd_status=0
  wait "$LAUNCHED" || cmd_status=$?
  LAUNCHED=""
  # bash's wait gives -1 at times for a child a group-wide Ctrl-C ended
  # (seen with bash 5.2): no status to report, rather than a false one.
  if [ "$cmd_status" -lt 0 ] || [ "$cmd_status" -gt 255 ]; then
    say "${CMD[0]} ended; its exit status was lost (bash's wait gave $cmd_status)"
    cmd_status=""
  fi
  # 143, 130: ended by our SIGTERM, or by a Ctrl-C that reached it too
  if [ -n "$cmd_status" ] && [ "$cmd_status" -ne 0 ] && [ "$cmd_status" -ne 143 ] &&
    [ "$cmd_status" -ne 130 ]; then
    say "${CMD[0]} exited with status $cmd_status"
  fi
fi

if { [ "$status" -ne 0 ] && [ "$status" -ne 130 ]; } || [ ! -s "$OUT/perf.data" ]; then
  log=$(grep -v '^Events \(dis\|en\)abled' "$OUT/perf-record.log" | tail -n 3 | tr '\n' ' ' || true)
  if grep -qi 'paranoid\|permission\|not permitted' "$OUT/perf-record.log"; then
    die "perf record was refused: $log (as root: sysctl kernel.perf_event_paranoid=1, or run as root)"
  fi
  fail "perf record failed (status $status): ${log:-no perf.data written}"
fi

# The span sampled: from both perfs counting to the stop (or the end, which
# also holds perf record's writing: a little more than sampled).
start=$(cat "$FIFOS/enabled" 2>/dev/null || echo "$end")
[ ! -s "$FIFOS/stopped" ] || end=$(cat "$FIFOS/stopped")
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
perf script -i "$OUT/perf.data" --show-task-events \
  -F comm,pid,tid,time,period,event,ip,sym,dso 2>"$OUT/perf-script.log" |
  perfkit profile perf "$OUT" --script - --target "$TARGET_DESC" --freq "$FREQ" \
    --call-graph "$CALL_GRAPH" --seconds "$seconds" --stat-how "$STAT_HOW" \
    ${PREFIX:+--prefix "$PREFIX"} ${cmd_status:+--exit-status "$cmd_status"} || {
  status=$?
  [ "$status" -ne 2 ] || exit 2
  fail "no profile made (perf script: $(tail -n 2 "$OUT/perf-script.log" | tr '\n' ' '))"
}
cat "$OUT/summary.md"
