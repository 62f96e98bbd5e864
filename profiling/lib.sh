# shellcheck shell=bash
# Shared by the profiling wrappers (heaptrack.sh, perf.sh, callgrind.sh,
# leakcheck.sh): their common arguments, the interpreter that runs perfkit,
# and one way to run a profiler until it is done or told to stop.
# Sourced, not run.

PROFILING=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$PROFILING/.." && pwd)
# Debian's interpreter: it sees python3-numpy, -jsonschema, -psutil. A pyenv
# python3 first on PATH does not. PERFKIT_PYTHON overrides.
PY=${PERFKIT_PYTHON:-/usr/bin/python3}
ME=$(basename "$0")

die() { echo "$ME: $*" >&2; exit 2; }   # bad arguments or a missing tool
fail() { echo "$ME: $*" >&2; exit 1; }  # the profile itself failed
say() { echo "$ME: $*" >&2; }

# need TOOL PACKAGE: the tool on PATH, or one line saying how to get it.
need() {
  command -v "$1" >/dev/null 2>&1 ||
    die "$1 is not installed: apt-get install $2 (ci/install-deps.sh installs it)"
}

# perfkit ARGS...: the perfkit CLI of this checkout.
perfkit() {
  "$PY" -c 'import numpy, jsonschema, psutil' 2>/dev/null ||
    die "$PY cannot import numpy, jsonschema and psutil: apt-get install python3-numpy python3-jsonschema python3-psutil (or set PERFKIT_PYTHON)"
  PYTHONPATH="$REPO/harness${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m perfkit "$@"
}

# parse_common TOOL "$@": the arguments every wrapper takes. Sets
#   OUT         -o/--output DIR (default: ./profile-TOOL), created
#   TARGET_PID  -p/--pid PID: attach to a running process
#   DURATION    -d/--seconds S: stop after S seconds (with --pid: else until
#               Ctrl-C, SIGTERM or the process's end)
#   PREFIX      --prefix P: metric names begin P. (default: none)
#   CMD         -- CMD ARGS: start this program under the profiler
#   EXTRA       every other argument, in order, for the wrapper to parse
# and calls the wrapper's usage function for -h/--help.
parse_common() {
  local tool=$1
  shift
  OUT="profile-$tool" TARGET_PID="" DURATION="" PREFIX="" CMD=() EXTRA=()
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help) usage; exit 0 ;;
      -o | --output) [ $# -ge 2 ] || die "$1 needs a DIR"; OUT=$2; shift 2 ;;
      -p | --pid) [ $# -ge 2 ] || die "$1 needs a PID"; TARGET_PID=$2; shift 2 ;;
      -d | --seconds) [ $# -ge 2 ] || die "$1 needs a number of seconds"; DURATION=$2; shift 2 ;;
      --prefix) [ $# -ge 2 ] || die "$1 needs a name"; PREFIX=$2; shift 2 ;;
      --) shift; CMD=("$@"); break ;;
      *) EXTRA+=("$1"); shift ;;
    esac
  done
  if [ -n "$TARGET_PID" ] && [ ${#CMD[@]} -gt 0 ]; then
    die "give --pid PID or -- CMD ARGS, not both"
  fi
  if [ -n "$TARGET_PID" ]; then
    [[ $TARGET_PID =~ ^[1-9][0-9]*$ ]] || die "--pid: '$TARGET_PID' is not a process id"
    kill -0 "$TARGET_PID" 2>/dev/null || [ -d "/proc/$TARGET_PID" ] ||
      die "--pid: no process $TARGET_PID"
  fi
  if [ -n "$DURATION" ]; then
    if [[ ! $DURATION =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || [[ $DURATION =~ ^0*\.?0*$ ]]; then
      die "--seconds: '$DURATION' is not a positive number of seconds"
    fi
  fi
  if [ -n "$PREFIX" ]; then
    [[ $PREFIX =~ ^[A-Za-z0-9_.:/+-]+$ ]] || die "--prefix: '$PREFIX': letters, digits and _ . : / + - only"
  fi
  mkdir -p "$OUT" || die "cannot make $OUT"
}

# needs_target: the wrappers that must have something to profile.
needs_target() {
  [ -n "$TARGET_PID" ] || [ ${#CMD[@]} -gt 0 ] ||
    die "nothing to profile: give -- CMD ARGS or --pid PID (--help says more)"
}

# wait_child PID: waits for a background child to end, also through the traps
# a stop runs, and returns its own exit status.
wait_child() {
  local child=$1 status=0
  # A trapped signal ends `wait` early (status > 128) while the child may
  # still be writing: wait again; the shell keeps an ended job's own status.
  wait "$child" || status=$?
  while [ "$status" -gt 128 ] && kill -0 "$child" 2>/dev/null; do
    status=0
    wait "$child" || status=$?
  done
  if [ "$status" -gt 128 ]; then
    status=0
    wait "$child" 2>/dev/null || status=$?
  fi
  return "$status"
}

# run_until_stopped SIGNAL CMD...: runs CMD (a profiler) until it ends by
# itself, or DURATION seconds pass, or SIGINT or SIGTERM reaches this script;
# then sends it SIGNAL (its own "stop and write", INT for perf) and waits for
# it to finish writing. Returns its exit status.
run_until_stopped() {
  local signal=$1 child timer="" status
  shift
  # A script's background job starts with SIGINT ignored (and a script run in
  # the background ignores it for good); the profiler must see it.
  env --default-signal=INT,QUIT "$@" &
  child=$!
  trap 'kill -s "$signal" "$child" 2>/dev/null' INT TERM
  if [ -n "$DURATION" ]; then
    # Its sleep goes with it when the profiler ends first: nothing left behind.
    (
      sleep "$DURATION" &
      trap 'kill $! 2>/dev/null; exit 0' TERM
      wait $! && kill -s "$signal" "$child" 2>/dev/null
    ) &
    timer=$!
  fi
  status=0
  wait_child "$child" || status=$?
  [ -z "$timer" ] || kill "$timer" 2>/dev/null || true
  trap - INT TERM
  return "$status"
}

# recording_started: says (OUT/recording) that the profiler now records, for
# whoever waits to begin the work to be profiled (the scenario runner).
recording_started() {
  : >"$OUT/recording"
}
