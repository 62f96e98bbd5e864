#!/usr/bin/env bash
# Instructions per unit of work under valgrind's callgrind: counts that hold
# on any machine running the same binary, so that two machines' baselines
# compare and a 1 % change shows where wall time drowns it in noise.
set -euo pipefail
# shellcheck source=profiling/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'EOF'
Usage: callgrind.sh [OPTIONS] [-o DIR] -- CMD ARGS
       callgrind.sh --preset collector|wal|sampler|all [OPTIONS] [-o DIR]

Runs CMD under valgrind's callgrind and writes its instruction counts as
perfkit metrics instructions.WHAT (count, lower is better, portable).

What is counted (default: every instruction of the run):
  --toggle FUNCTION    only inside FUNCTION, with all it calls (inclusive)
  --per-call FUNCTION  divided by FUNCTION's calls, read from callgrind's
                       calls= lines (default: the --toggle function)
  --name WHAT          the metric's name: instructions.WHAT (default: the
                       --per-call function's last word, else "run")
  --each-call          dump after every call of the --toggle function; the
                       figure is the median over calls, so a first call's
                       one-time costs (allocation, lazy binding) drop out.
                       For a function called hundreds of times, not millions
  --gbench             CMD is a Google Benchmark binary: count only inside
                       its timed loops (setup, warm-up calls before the loop
                       and reporting stay out); the figure is the median
                       over its runs, so its adaptive iteration count does
                       not matter
  --repeat N           N process runs (default 1, presets 3): the spread
                       says how well the count repeats
FUNCTION is callgrind's full name (procmond::LinuxCollector::collect()), a
qualified name without its parameters (LinuxCollector::collect), or a
pattern with * and ?.

Presets (binaries from $PROCMOND_BUILD_DIR/bin, default build/bin):
  collector  instructions.collector_cycle_n1000 (a warm cycle of procmond's
             collector in held mode, as procmond run uses it, in
             collector_bench), .collector_per_process (both without new
             processes' identity reads) and .collector_identity_read, with
             loadgen holding the machine at --procs N processes (1000)
  wal        instructions.wal_event: per record appended to procmond's WAL,
             in batches of 100 records of 200 bytes (wal_bench BM_Never/100)
  sampler    instructions.sampler_sample (per sample of perfkit's native
             sampler, 100 Hz over 3 s of a sleeping child, less its slow
             reads) and instructions.sampler_slow_read (one slow read, which
             it adds every tenth sample)
  all        the three, into DIR/collector, DIR/wal, DIR/sampler, joined in DIR

Common options:
  -o, --output DIR   where its files go (default ./profile-callgrind)
  -d, --seconds S    stop CMD after S seconds (callgrind writes what it has)
  --prefix P         metric names begin P.
  -h, --help

Callgrind counts user-space instructions only: the kernel's work for CMD's
system calls (formatting /proc text, writing pages) is not in the counts.
CMD's user-space code runs about 11 times slower than natively; each
--each-call dump costs more. Writes DIR/run-N/ (callgrind.out.*,
CMD's output.txt, valgrind.log), DIR/metrics.json, DIR/files.json and
DIR/summary.md, which it prints. Exit: 0 measured; 1 the profile failed (CMD
failed, nothing counted, the function never called); 2 bad arguments or a
missing tool.
EOF
}

parse_common callgrind "$@"
TOGGLE="" PER_CALL="" NAME="" EACH_CALL=0 GBENCH=0 REPEAT="" PRESET="" PROCS=1000
set -- "${EXTRA[@]+"${EXTRA[@]}"}"
while [ $# -gt 0 ]; do
  case $1 in
    --toggle) [ $# -ge 2 ] || die "$1 needs a FUNCTION"; TOGGLE=$2; shift 2 ;;
    --per-call) [ $# -ge 2 ] || die "$1 needs a FUNCTION"; PER_CALL=$2; shift 2 ;;
    --name) [ $# -ge 2 ] || die "$1 needs a name"; NAME=$2; shift 2 ;;
    --each-call) EACH_CALL=1; shift ;;
    --gbench) GBENCH=1; shift ;;
    --repeat) [ $# -ge 2 ] || die "$1 needs a number"; REPEAT=$2; shift 2 ;;
    --preset) [ $# -ge 2 ] || die "$1 needs collector, wal, sampler or all"; PRESET=$2; shift 2 ;;
    --procs) [ $# -ge 2 ] || die "$1 needs a number"; PROCS=$2; shift 2 ;;
    *) die "unknown option '$1' (--help lists them)" ;;
  esac
done

[ -z "$TARGET_PID" ] || die "callgrind cannot attach to a running process: give -- CMD ARGS"
if [ -n "$REPEAT" ]; then
  [[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat: '$REPEAT' is not a positive whole number"
fi
[[ $PROCS =~ ^[1-9][0-9]*$ ]] || die "--procs: '$PROCS' is not a positive whole number"
[ -z "$NAME" ] || [[ $NAME =~ ^[A-Za-z0-9_.-]+$ ]] || die "--name: '$NAME': letters, digits and _ . - only"
if [ -n "$PRESET" ]; then
  case $PRESET in collector | wal | sampler | all) ;; *) die "--preset: '$PRESET' is not collector, wal, sampler or all" ;; esac
  [ ${#CMD[@]} -eq 0 ] || die "give --preset or -- CMD ARGS, not both"
  if [ -n "$TOGGLE$PER_CALL$NAME" ] || [ "$EACH_CALL$GBENCH" != 00 ]; then
    die "--preset sets what is counted itself: --toggle, --per-call, --name, --each-call and --gbench are for -- CMD"
  fi
  REPEAT=${REPEAT:-3}
else
  needs_target
  [ "$EACH_CALL" = 0 ] || [ -n "$TOGGLE" ] || die "--each-call needs --toggle FUNCTION"
  REPEAT=${REPEAT:-1}
fi
need valgrind valgrind
BIN=${PROCMOND_BUILD_DIR:-$REPO/build}/bin
LOADGEN_PID=""

# stop_loadgen: loadgen tears its children down on SIGTERM (and they die with
# it on anything else: PR_SET_PDEATHSIG).
stop_loadgen() {
  if [ -n "$LOADGEN_PID" ]; then
    kill -TERM "$LOADGEN_PID" 2>/dev/null || true
    wait "$LOADGEN_PID" 2>/dev/null || true
    LOADGEN_PID=""
  fi
}
trap stop_loadgen EXIT
# A stop asked for between runs (run_until_stopped handles it during one):
# no more runs, but what was measured is still written.
STOP_REQUESTED=0
guard() { trap 'STOP_REQUESTED=1' INT TERM; }
guard

count_procs() {
  local pids=(/proc/[0-9]*)
  echo "${#pids[@]}"
}

# profile DIR TOGGLE EACH_CALL GBENCH CMD...: CMD under callgrind REPEAT times,
# into DIR/run-N. Sets STOPPED_NOTE when a run ended by a signal.
profile() {
  local dir=$1 toggle=$2 each=$3 gbench=$4 i status run started
  shift 4
  local opts=()
  if [ -n "$toggle" ]; then
    local p patterns=("$toggle")
    # As perfkit matches --per-call: a bare name also with its parameters and
    # under any namespace or class (callgrind takes --toggle-collect repeated).
    [[ $toggle == *[\(*?]* ]] || patterns+=("$toggle(*" "*::$toggle(*")
    for p in "${patterns[@]}"; do opts+=("--toggle-collect=$p"); done
    if [ "$each" = 1 ]; then
      # Callgrind 3.19 files a wildcard pattern given twice (here for the
      # toggle and the dump) as a literal the second time, so that it never
      # matches: the dump gets an equivalent pattern of its own, one
      # wildcard more in front (what more it matches makes parts without
      # calls of the function, which count for nothing).
      for p in "${patterns[@]}"; do
        case $p in
          \**) opts+=("--dump-after=?$p") ;;
          *[*?]*) opts+=("--dump-after=*$p") ;;
          *) opts+=("--dump-after=$p") ;;
        esac
      done
    fi
  fi
  if [ "$gbench" = 1 ]; then
    # Costs before each timed loop are dropped; each loop is a dump of its own.
    opts+=("--zero-before=benchmark::State::StartKeepRunning()"
      "--dump-after=benchmark::State::FinishKeepRunning()")
  fi
  mkdir -p "$dir"
  STOPPED_NOTE=""
  for ((i = 1; i <= REPEAT; i++)); do
    [ "$STOP_REQUESTED" = 0 ] || break
    run=$dir/run-$i
    rm -rf "$run"
    mkdir -p "$run"
    say "run $i of $REPEAT: ${*:1:3}... under callgrind (output in $run/output.txt)"
    started=$(date +%s.%N)
    status=0
    # sh writes its pid, then becomes valgrind: the profiled process's id,
    # which tells its profile from those of children it forks.
    # shellcheck disable=SC2016  # $$ and $@ are the inner shell's
    run_until_stopped TERM sh -c 'echo $$ >"$0"; exec "$@"' "$run/pid" \
      valgrind --tool=callgrind "--callgrind-out-file=$run/callgrind.out.%p" \
      "--log-file=$run/valgrind.log" "${opts[@]+"${opts[@]}"}" "$@" \
      >"$run/output.txt" 2>&1 </dev/null || status=$?
    guard  # run_until_stopped put the default back
    awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", e - s }' >"$run/seconds"
    if [ "$status" -ne 0 ]; then
      if [ "$status" -gt 128 ] && compgen -G "$run/callgrind.out.*" >/dev/null; then
        if [ -n "$DURATION" ]; then # stopped by --seconds, as asked
          STOPPED_NOTE="stopped after $DURATION s (--seconds): the counts cover what ran"
          continue
        fi
        # Told to stop, or dead of a signal: no more runs. A cut run joins
        # the figures only when no whole one was made before it.
        STOP_REQUESTED=1
        if [ "$i" -gt 1 ]; then
          mv "$run" "$dir/stopped-run-$i"
          STOPPED_NOTE="run $i of $REPEAT ended by signal $((status - 128)) (stopped) and is left out (its files: stopped-run-$i)"
        else
          STOPPED_NOTE="run 1 of $REPEAT ended by signal $((status - 128)) (stopped): its counts cover what ran"
        fi
        say "$STOPPED_NOTE"
        break
      fi
      tail -n 5 "$run/output.txt" >&2 || true
      grep -v '^==[0-9]*== *$' "$run/valgrind.log" 2>/dev/null | tail -n 5 >&2 || true
      fail "run $i: '${CMD[0]:-$1}' under callgrind exited $status (see $run/output.txt, $run/valgrind.log)"
    fi
  done
}

# analyse DIR VERB-ARGS...: perfkit turns DIR's runs into metrics and a summary.
analyse() {
  local dir=$1
  shift
  local extra=()
  [ -z "$PREFIX" ] || extra+=(--prefix "$PREFIX")
  [ -z "$STOPPED_NOTE" ] || extra+=(--note "$STOPPED_NOTE")
  perfkit profile callgrind "$dir" "$@" "${extra[@]+"${extra[@]}"}" || {
    local s=$?
    [ "$s" -eq 2 ] && fail "perfkit could not read callgrind's output in $dir"
    exit "$s"
  }
}

need_bin() {
  local b
  for b in "$@"; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing: build first (cmake --build build), or set PROCMOND_BUILD_DIR"
  done
}

preset_collector() {
  local dir=$1 present children ready after i
  need_bin collector_bench loadgen
  present=$(count_procs)
  children=$((PROCS - present))
  local held="no load started: the machine already had $present processes"
  if [ "$children" -gt 0 ]; then
    ready=$dir/loadgen.ready
    mkdir -p "$dir"
    rm -f "$ready"
    # Sleeping children for as long as the runs may take, then torn down.
    "$BIN/loadgen" run --count "$children" --profile steady --kind sleep \
      --duration "$((REPEAT * 600 + 60))s" --ready-file "$ready" -q >"$dir/loadgen.txt" 2>&1 &
    LOADGEN_PID=$!
    for ((i = 0; i < 600; i++)); do
      [ -e "$ready" ] && break
      kill -0 "$LOADGEN_PID" 2>/dev/null || fail "loadgen ended before its $children children stood (see $dir/loadgen.txt)"
      sleep 0.1
    done
    [ -e "$ready" ] || fail "loadgen's $children children did not stand within 60 s"
    held="loadgen held $children sleeping children beside the machine's own $present"
  fi
  say "collector: $(count_procs) processes on the machine ($held)"
  # Each cycle a part: the figure is the median cycle, which leaves out the
  # cold cycle before each of Google Benchmark's timed loops (identities
  # read, stat fds opened: 6 times a warm one) and the few cycles that read
  # a new process's identity. The toggle keeps the benchmark's loop out.
  profile "$dir" 'procmond::LinuxCollector::collect()' 1 0 \
    "$BIN/collector_bench" --procs=0 '--benchmark_filter=^CollectorHeld/0/' --benchmark_min_time=0.5
  after=$(count_procs)
  stop_loadgen
  analyse "$dir" --command "collector_bench --procs=0 --benchmark_filter=^CollectorHeld/0/" \
    --counted "procmond::LinuxCollector::collect(), each call (a cycle, held mode) a part" \
    --toggle 'procmond::LinuxCollector::collect()' \
    --per-call "collector_cycle_n$PROCS" 'procmond::LinuxCollector::collect()' \
    --per-call collector_per_process 'procmond::LinuxCollector::read_process(*' \
    --less 'procmond::read_identity(*' \
    --inclusive collector_identity_read 'procmond::read_identity(*' \
    --note "Processes: $present on the machine before, $after at the end; $held. The cycle's count scales with them (calls a run: read_process over collect gives the processes a cycle); collector_per_process (per call of read_process, one a process listed) is the figure that compares across machines." \
    --note "Both leave out the identity reads (cmdline, status) of processes new to the collector, which come with other processes' starts and execs, not with the cycle: collector_identity_read is one of them, apart." \
    --note "What a cycle reads from /proc costs the kernel most of a cycle's time (formatting each stat): not counted here."
}

preset_wal() {
  local dir=$1
  need_bin wal_bench
  profile "$dir" 'procmond::wal::WalWriter::append(*' 1 0 \
    "$BIN/wal_bench" '--benchmark_filter=^BM_Never/100/' --benchmark_min_time=0.05
  analyse "$dir" --command "wal_bench --benchmark_filter=^BM_Never/100/" \
    --counted "procmond::wal::WalWriter::append() (each call a part; batches of 100 records of 200 bytes, sync never)" \
    --toggle 'procmond::wal::WalWriter::append(*' \
    --per-call wal_event 'procmond::wal::make_record_header(*' \
    --note "Per record: each append's count over its make_record_header calls (one a record); the first append of each benchmark run also grows the writer's buffers, and the median over appends leaves it out." \
    --note "The pwritev itself (the kernel copying 20 KB into the page cache) is not counted."
}

preset_sampler() {
  local dir=$1
  compgen -G "$REPO/harness/perfkit/_native*.so" >/dev/null ||
    die "$REPO/harness/perfkit/_native*.so is missing: build first (cmake --build build)"
  profile "$dir" 'perfkit::Sampler::run(*' 0 0 \
    "$PY" "$PROFILING/drivers/sampler_driver.py" --seconds 3
  analyse "$dir" --command "sampler_driver.py --seconds 3 (perfkit's native sampler, 100 Hz, slow reads at 10 Hz)" \
    --counted "perfkit::Sampler::run(), the sampling thread's loop" \
    --toggle 'perfkit::Sampler::run(*' \
    --per-call sampler_sample 'perfkit::ProcessReader::read_fast(*' \
    --less 'perfkit::ProcessReader::read_slow(*' \
    --inclusive sampler_slow_read 'perfkit::ProcessReader::read_slow(*' \
    --note "sampler_sample: the sampling loop's count less its slow reads, over its fast reads (one a sample): a sample's pread of statm and read of the process's CPU clock, its store, the grid's clock reads, the sleep's system call, and the loop's start and end spread over the run's ~300 samples. sampler_slow_read: one read of status and the fd count, which the sampler adds every tenth sample at its defaults (a sample then costs sampler_sample + sampler_slow_read / 10). Apart, neither depends on how many deadlines callgrind's slowness made the sampler miss." \
    --note "The kernel's work of each read (formatting /proc/PID/statm and status, listing fd/) is not counted."
}

if [ -n "$PRESET" ]; then
  case $PRESET in
    all)
      done_presets=()
      for p in collector wal sampler; do
        [ "$STOP_REQUESTED" = 0 ] || { say "stopped: preset $p not run"; continue; }
        say "preset $p"
        "preset_$p" "$OUT/$p" >/dev/null
        done_presets+=("$p")
      done
      perfkit profile callgrind "$OUT" --merge "${done_presets[@]}" || fail "could not join the presets' outputs"
      ;;
    *) "preset_$PRESET" "$OUT" ;;
  esac
  exit 0
fi

if [ -z "$PER_CALL" ] && [ -n "$TOGGLE" ]; then PER_CALL=$TOGGLE; fi
counted="the whole run"
[ -z "$TOGGLE" ] || counted="inside $TOGGLE (inclusive)"
[ "$EACH_CALL" = 0 ] || counted="$counted, each call a part"
[ "$GBENCH" = 0 ] || counted="$counted, in Google Benchmark's timed loops only"
profile "$OUT" "$TOGGLE" "$EACH_CALL" "$GBENCH" "${CMD[@]}"
args=(--command "${CMD[*]}" --counted "$counted")
[ -z "$TOGGLE" ] || args+=(--toggle "$TOGGLE")
if [ -n "$PER_CALL" ]; then
  args+=(--per-call "$NAME" "$PER_CALL")
else
  args+=(--total "${NAME:-run}")
fi
analyse "$OUT" "${args[@]}"
