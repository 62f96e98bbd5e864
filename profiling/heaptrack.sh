#!/usr/bin/env bash
# Where the heap goes: heaptrack on a program or a running process, its
# totals as perfkit metrics and its top allocation sites in summary.md.
set -euo pipefail
# shellcheck source=profiling/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: heaptrack.sh [OPTIONS] -- CMD ARGS     start CMD under heaptrack
       heaptrack.sh [OPTIONS] --pid PID       attach heaptrack to a running process

Records every call to malloc, new, calloc, realloc, free... of CMD (or of PID
from the attach until the stop) with its stack, then summarises the
recording with heaptrack_print as perfkit metrics (bytes or count, lower is
better; sizes decimal, as heaptrack counts them):
  heap.peak_bytes              the most heap in use at once (exact)
  heap.peak_rss_bytes          peak RSS, heaptrack's own memory included (within 0.5 %)
  heap.allocations             calls to allocation functions
  heap.temporary_allocations   allocations freed before the next one was made
  heap.leaked_bytes            not freed by the end (exact)
and summary.md: those, and the top sites of four lists (held at the peak,
leaked, most calls, most temporary), each with its stack.

Options:
  -o, --output DIR   where its files go (default ./profile-heaptrack)
  -p, --pid PID      attach to PID (needs gdb and the right to ptrace it)
  -d, --seconds S    stop after S seconds of recording (from when heaptrack
                     records: with --pid, after the injection): CMD gets SIGTERM;
                     from PID heaptrack detaches. Else at CMD's (PID's) end, or
                     on Ctrl-C / SIGTERM
  --prefix P         metric names begin P.
  --top N            sites of each list in summary.md (default 5)
  -h, --help

With --pid, heaptrack sees only what happens while attached: "leaked" means
STILL ALLOCATED WHEN HEAPTRACK DETACHED (a daemon keeps its caches; that is
not a leak), the peak is that of what was allocated after the attach and not
yet freed (not the process's whole heap), and frees of older blocks are not
seen. Attaching runs gdb, which stops PID while it injects heaptrack's
library and twice more at the detach (0.2-0.5 s each here); heaptrack calls
attaching unstable (it crashes a static program), and the library stays
loaded in PID after the detach.
It needs ptrace: root, or the same user with kernel.yama.ptrace_scope 0.
CMD started under heaptrack runs about 2x slower (allocation-heavy code more).

Writes into DIR heaptrack.NAME.zst (the recording: heaptrack --analyze FILE
opens it in heaptrack_gui), heaptrack_print.txt, leaked.stacks and
peak.stacks (heaptrack_print's stack files), peak.folded and leaked.folded
(folded stacks in bytes) and their flame graphs flamegraph-peak.svg and
flamegraph-leaked.svg, record.json (how the recording went),
recording (made once heaptrack records: what a caller waits for before the
work to profile), metrics.json, files.json and summary.md, which it prints. CMD's own stdout goes to stderr with
heaptrack's words. Exit: 0 recorded and summarised; 1 the recording or its
analysis failed; 2 bad arguments or a missing tool.
EOF
}

parse_common heaptrack "$@"
TOP=5
set -- "${EXTRA[@]+"${EXTRA[@]}"}"
while [ $# -gt 0 ]; do
  case $1 in
    --top) [ $# -ge 2 ] || die "$1 needs a number"; TOP=$2; shift 2 ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done
[[ $TOP =~ ^[1-9][0-9]*$ ]] || die "--top: '$TOP' is not a positive number"
needs_target
need heaptrack heaptrack
need heaptrack_print heaptrack
[ -z "$TARGET_PID" ] || need gdb gdb

OUT=$(cd "$OUT" && pwd)
# heaptrack's script expands -o unquoted: blanks or glob characters break it.
[[ ! $OUT =~ [[:space:]*?[] ]] || die "-o: heaptrack cannot write under '$OUT': choose a path without blanks or * ? ["
if [ -n "$TARGET_PID" ]; then
  name=$(cat "/proc/$TARGET_PID/comm" 2>/dev/null) || die "--pid: cannot read process $TARGET_PID"
else
  command -v -- "${CMD[0]}" >/dev/null || die "no program '${CMD[0]}' to run"
  name=$(basename -- "${CMD[0]}")
fi
name=${name//[^A-Za-z0-9_.+-]/_}
base="$OUT/heaptrack.$name"
rm -f "$OUT/record.json" "$OUT/recording"

# The recorder makes OUT/recording (lib.sh's recording_started) once heaptrack
# records: only it knows when the injection is done.
record=(env "PYTHONPATH=$REPO/harness${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m perfkit
  profile heaptrack-record -o "$base" --status "$OUT/record.json" --ready-file "$OUT/recording")
# The recorder counts --seconds itself, from when heaptrack records: an
# attach spends a second or more injecting first (run_until_stopped's timer
# would count those too).
[ -z "$DURATION" ] || record+=(--seconds "$DURATION")
DURATION=""
if [ -n "$TARGET_PID" ]; then
  record+=(--pid "$TARGET_PID")
else
  record+=(-- "${CMD[@]}")
fi
# TERM to the recorder: it stops CMD, or detaches from PID, cleanly.
status=0
run_until_stopped TERM "${record[@]}" || status=$?
case $status in
  0) ;;
  2) exit 2 ;;
  *) fail "the recording failed (exit $status)" ;;
esac
[ -s "$OUT/record.json" ] || fail "the recorder wrote no record.json"
file=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["file"])' "$OUT/record.json")

args=(profile heaptrack "$file" -o "$OUT" --top "$TOP" --record-status "$OUT/record.json")
[ -z "$PREFIX" ] || args+=(--prefix "$PREFIX")
perfkit "${args[@]}"
