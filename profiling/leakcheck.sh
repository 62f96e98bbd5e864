#!/usr/bin/env bash
# leakcheck.sh: does a daemon grow from one round of load to the next? Runs it
# (or watches one running) under the same load round after round, reads RSS
# and the heap in use at the end of each, and fails when either keeps growing.
# The rounds, the heaptrack reading and the verdict are perfkit's
# (`perfkit profile growth`); this script starts and stops the processes.
set -euo pipefail
# shellcheck source=profiling/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: leakcheck.sh [OPTIONS] [-- CMD ARGS | --pid PID]

Runs a daemon under a churn load for many rounds and fails (exit 1) when its
RSS or its heap in use grows from one round to the next.

  (no CMD)             procmond run in a temporary directory, polling every
                       --interval, with a subscriber (procmondctl events)
  -- CMD ARGS          this daemon instead; it must stay in the foreground
  -p, --pid PID        watch a daemon already running (no load unless --load)
  --rounds N           rounds, warm-up included (default 10)
  --round-seconds S    load in each round (default 5)
  --warmup-rounds N    first rounds left out of the verdict (default 2)
  --settle-seconds S   quiet after each round's load before its reading (default 1)
  --tolerance T        growth a round let pass: bytes (64K, 1M; units of 1024)
                       or a percent of the level (1%); default 64K
  --load "OPTS"        loadgen run's options for every round (default, without
                       --pid: "--count 300 --profile churn"); the words are
                       split on spaces; --duration is the round's
  --no-load            rounds without load
  --heaptrack          record the heap with heaptrack (the default when this
                       script starts the daemon; with --pid it attaches
                       through gdb, pausing the daemon a few seconds, and
                       fails if the injection kills it, as heaptrack warns
                       attaching can)
  --no-heaptrack       RSS alone
  --interval D         procmond's poll interval when it is the default (200ms)
  -o, --output DIR     where its files go (default ./profile-leakcheck)
  -d, --seconds S      stop the rounds after S seconds; judge those done
  --prefix P           metric names begin P.
  -h, --help

Each round: loadgen runs its load for --round-seconds (the same options and
seed every round), ends and tears its children down; after --settle-seconds
of quiet the daemon's RSS (perfkit's sampler, /proc/PID/statm) and its heap
in use (heaptrack: bytes asked of malloc and not freed, read at the middle of
the quiet) are read. Read at the same point of identical rounds, readings
differ only by what the daemon kept.

The rule, per series (RSS, heap): after the warm-up rounds, it GROWS when
the Theil-Sen slope of its readings over the rounds (the median of every
pair's slope) is over the tolerance AND more than half of its round-to-round
steps grew by more than half the tolerance. One jump to a new level (a cache
filling) is not a trend, nor is a stray page; noise around a level gives a
slope near zero. At least 3 rounds after the warm-up.

Writes into DIR: rounds.json, metrics.json (growth.rss_bytes_per_round,
growth.heap_bytes_per_round: their samples are the round-to-round steps after
the warm-up), files.json, summary.md (printed: the verdict, the rule, a table
of the rounds, the allocation sites whose bytes in use grew), the heaptrack
data, and the logs of the daemon, its subscriber and loadgen.

Exit status: 0 no growth; 1 growth, or the check could not be made (the
daemon died, too few rounds); 2 bad arguments or a missing tool.
EOF
}

parse_common leakcheck "$@"
ROUNDS=10 ROUND_SECONDS=5 WARMUP=2 SETTLE=1 TOLERANCE=64K INTERVAL=200ms
LOAD="" LOAD_SET="" HEAPTRACK=""
set -- "${EXTRA[@]+"${EXTRA[@]}"}"
while [ $# -gt 0 ]; do
  case $1 in
    --rounds | --round-seconds | --warmup-rounds | --settle-seconds | --tolerance | --load | --interval)
      [ $# -ge 2 ] || die "$1 needs a value"
      case $1 in
        --rounds) ROUNDS=$2 ;;
        --round-seconds) ROUND_SECONDS=$2 ;;
        --warmup-rounds) WARMUP=$2 ;;
        --settle-seconds) SETTLE=$2 ;;
        --tolerance) TOLERANCE=$2 ;;
        --load) LOAD=$2 LOAD_SET=1 ;;
        --interval) INTERVAL=$2 ;;
      esac
      shift 2 ;;
    --no-load) LOAD="" LOAD_SET=1; shift ;;
    --heaptrack) HEAPTRACK=1; shift ;;
    --no-heaptrack) HEAPTRACK=0; shift ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done

[[ $ROUNDS =~ ^[0-9]+$ && $WARMUP =~ ^[0-9]+$ ]] || die "--rounds and --warmup-rounds are whole numbers"
[ "$((ROUNDS - WARMUP))" -ge 3 ] ||
  die "--rounds $ROUNDS with --warmup-rounds $WARMUP leaves $((ROUNDS - WARMUP)) rounds to judge; a trend needs at least 3"
number='^([0-9]+\.?[0-9]*|\.[0-9]+)$'
[[ $ROUND_SECONDS =~ $number && ! $ROUND_SECONDS =~ ^0*\.?0*$ ]] ||
  die "--round-seconds: '$ROUND_SECONDS' is not a positive number of seconds"
[[ $SETTLE =~ $number ]] || die "--settle-seconds: '$SETTLE' is not a number of seconds"
[[ $TOLERANCE =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)(%|[KMG](i?B)?|B)?$ ]] ||
  die "--tolerance: '$TOLERANCE': bytes a round (64K, 1M, 4096) or a percent (1%)"

BIN=${PROCMOND_BUILD_DIR:-$REPO/build}/bin
[ -n "$LOAD_SET" ] || { [ -n "$TARGET_PID" ] || LOAD="--count 300 --profile churn"; }
if [ -n "$LOAD" ]; then
  [ -x "$BIN/loadgen" ] || die "$BIN/loadgen is missing: build first (cmake --build build), or set PROCMOND_BUILD_DIR"
  read -ra load_words <<<"$LOAD"
  # loadgen's own check of the options, before anything starts.
  why=$("$BIN/loadgen" run --quiet "${load_words[@]}" --duration "$ROUND_SECONDS" --dry-run 2>&1 >/dev/null) ||
    die "--load '$LOAD': loadgen refuses it: $(printf '%s\n' "$why" | head -n1)"
fi
if [ -z "$HEAPTRACK" ]; then
  # Started here, the daemon runs under heaptrack from its first allocation;
  # a running one must be attached through gdb, which pauses it: asked for only.
  if [ -n "$TARGET_PID" ]; then HEAPTRACK=0; else HEAPTRACK=1; fi
fi
if [ "$HEAPTRACK" = 1 ]; then
  need heaptrack heaptrack
  need zstd zstd
  [ -z "$TARGET_PID" ] || need gdb gdb
fi
perfkit profile growth --help >/dev/null # the interpreter and its modules, before anything starts
OUT=$(cd "$OUT" && pwd)

DEFAULT_DAEMON=""
if [ ${#CMD[@]} -gt 0 ]; then
  command -v "${CMD[0]}" >/dev/null 2>&1 || die "'${CMD[0]}' is not a program to run"
elif [ -z "$TARGET_PID" ]; then
  for b in procmond procmondctl; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing: build first (cmake --build build), or set PROCMOND_BUILD_DIR"
  done
  RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/leakcheck.XXXXXX")
  CMD=("$BIN/procmond" run --socket "$RUNDIR/procmond.sock" --data-dir "$RUNDIR/data" --interval "$INTERVAL")
  DEFAULT_DAEMON=1
fi

DAEMON_PID="" LAUNCHER="" SUBSCRIBER="" HT_BASE="" HT_STARTED="" HT_ENDED=""

# alive PID: running, not a zombie waiting for its parent's wait.
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# stop PID TIMEOUT: SIGTERM, then SIGKILL if it outlives TIMEOUT seconds.
stop() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  say "pid $pid did not end within $2 s of SIGTERM: killed"
  kill -KILL "$pid" 2>/dev/null || true
}

# daemon_said: the last line of the daemon's log that is not heaptrack's.
daemon_said() {
  grep -v -e '^heaptrack' -e 'libheaptrack' -e '^starting application' -e 'Heaptrack finished' \
    -e '^[[:space:]]' -e '^$' "$OUT/daemon.log" 2>/dev/null | tail -n1
}

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -z "$SUBSCRIBER" ] || { stop "$SUBSCRIBER" 10; wait "$SUBSCRIBER" 2>/dev/null || true; }
  if [ -z "$TARGET_PID" ] && [ -n "$DAEMON_PID" ]; then
    stop "$DAEMON_PID" 30
  elif [ -n "$TARGET_PID" ] && [ -n "$LAUNCHER" ]; then
    kill -TERM "$LAUNCHER" 2>/dev/null || true # the recorder detaches
  fi
  # heaptrack finishes writing once the daemon is gone (or detached).
  [ -z "$LAUNCHER" ] || wait "$LAUNCHER" 2>/dev/null || true
  [ -z "$DEFAULT_DAEMON" ] || rm -rf "$RUNDIR"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

if [ -n "$TARGET_PID" ]; then
  DAEMON_PID=$TARGET_PID
  if [ "$HEAPTRACK" = 1 ]; then
    HT_BASE="$OUT/heaptrack.$(cat "/proc/$TARGET_PID/comm" 2>/dev/null || echo daemon)"
    rm -f "$OUT/heaptrack.ready"
    say "attaching heaptrack to pid $TARGET_PID through gdb (the daemon pauses meanwhile)"
    # perfkit's recorder (heaptrack.sh's too): it says when the injection is
    # done, detaches on SIGTERM, and leaves nothing behind when the injection
    # kills the process, which heaptrack warns it can.
    env "PYTHONPATH=$REPO/harness${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m perfkit profile \
      heaptrack-record -o "$HT_BASE" --pid "$TARGET_PID" --ready-file "$OUT/heaptrack.ready" \
      >"$OUT/heaptrack.log" 2>&1 &
    LAUNCHER=$!
    for ((i = 0; i < 6000; i++)); do
      [ ! -e "$OUT/heaptrack.ready" ] || break
      alive "$LAUNCHER" || fail "heaptrack did not attach: $(tail -n1 "$OUT/heaptrack.log")"
      sleep 0.02
    done
    [ -e "$OUT/heaptrack.ready" ] || fail "heaptrack did not attach within 120 s"
    # heaptrack's clock began inside that gdb session, just before this.
    HT_STARTED=$(date +%s.%N)
  fi
else
  if [ "$HEAPTRACK" = 1 ]; then
    HT_BASE="$OUT/heaptrack.$(basename "${CMD[0]}")"
    rm -f "$HT_BASE".*
    heaptrack -o "$HT_BASE" "${CMD[@]}" >"$OUT/daemon.log" 2>&1 &
    LAUNCHER=$!
    # The daemon is heaptrack's child that carries its output pipe in the environment.
    for ((i = 0; i < 100; i++)); do
      read -ra children <<<"$(cat "/proc/$LAUNCHER/task/"*/children 2>/dev/null)"
      for c in "${children[@]}"; do
        if grep -qz '^DUMP_HEAPTRACK_OUTPUT=' "/proc/$c/environ" 2>/dev/null; then
          DAEMON_PID=$c
        fi
      done
      [ -z "$DAEMON_PID" ] || break
      alive "$LAUNCHER" || break
      sleep 0.1
    done
    [ -n "$DAEMON_PID" ] || fail "the daemon did not start under heaptrack: $(daemon_said)"
  else
    "${CMD[@]}" >"$OUT/daemon.log" 2>&1 &
    DAEMON_PID=$!
  fi
  if [ -n "$DEFAULT_DAEMON" ]; then
    for ((i = 0; i < 300; i++)); do
      [ -S "$RUNDIR/procmond.sock" ] && break
      alive "$DAEMON_PID" || break
      sleep 0.1
    done
    [ -S "$RUNDIR/procmond.sock" ] ||
      fail "procmond did not come up (its log, $OUT/daemon.log, ends: $(daemon_said))"
    "$BIN/procmondctl" --socket "$RUNDIR/procmond.sock" events >/dev/null 2>"$OUT/subscriber.log" &
    SUBSCRIBER=$!
  fi
  say "daemon pid $DAEMON_PID$([ "$HEAPTRACK" = 1 ] && echo ", under heaptrack")"
fi

rm -f "$OUT/rounds.json" "$OUT/loadgen.log" "$OUT"/loadgen-round*.json
rounds=(profile growth rounds --pid "$DAEMON_PID" --rounds "$ROUNDS" --warmup-rounds "$WARMUP"
  --round-seconds "$ROUND_SECONDS" --settle-seconds "$SETTLE" -o "$OUT")
[ -z "$LOAD" ] || rounds+=(--loadgen "$BIN/loadgen" --load "$LOAD")
status=0
run_until_stopped TERM env "PYTHONPATH=$REPO/harness${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m perfkit "${rounds[@]}" ||
  status=$?
[ "$status" -ne 2 ] || exit 2
[ "$status" -eq 0 ] || fail "the rounds failed (exit $status)"
[ -s "$OUT/rounds.json" ] || fail "the rounds wrote nothing"

# The daemon stops before the verdict: heaptrack's file is whole only then.
if [ -n "$SUBSCRIBER" ]; then
  stop "$SUBSCRIBER" 10
  wait "$SUBSCRIBER" 2>/dev/null || true
  SUBSCRIBER=""
fi
if [ -z "$TARGET_PID" ]; then
  # heaptrack's last time stamp is the daemon's end, a few ms after this:
  # the judge lines heaptrack's clock up with the rounds' by it.
  HT_ENDED=$(date +%s.%N)
  stop "$DAEMON_PID" 30
elif [ -n "$LAUNCHER" ]; then
  kill -TERM "$LAUNCHER" 2>/dev/null || true # the recorder detaches
fi
if [ -n "$LAUNCHER" ]; then
  wait "$LAUNCHER" 2>/dev/null || true
  LAUNCHER=""
fi
[ -n "$TARGET_PID" ] || wait "$DAEMON_PID" 2>/dev/null || true

judge=(profile growth judge "$OUT" --tolerance "$TOLERANCE" --warmup-rounds "$WARMUP")
[ -z "$PREFIX" ] || judge+=(--prefix "$PREFIX")
if [ "$HEAPTRACK" = 1 ]; then
  ht_file=""
  for f in "$HT_BASE".zst "$HT_BASE".gz; do
    [ -s "$f" ] && ht_file=$f
  done
  [ -n "$ht_file" ] || fail "heaptrack wrote no data ($HT_BASE.zst)"
  judge+=(--heaptrack "$ht_file")
  if [ -n "$HT_STARTED" ]; then
    judge+=(--heaptrack-started "$HT_STARTED")
  else
    judge+=(--heaptrack-ended "$HT_ENDED")
  fi
fi
status=0
perfkit "${judge[@]}" || status=$?
exit "$status"
