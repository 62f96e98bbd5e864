"""`perfkit profile growth rounds|judge`: profiling/leakcheck.sh's two steps.
rounds loads a running daemon round after round and reads its RSS at each
round's end (rounds.json); judge adds the heap in use heaptrack recorded,
decides whether either grows (perfkit/profiles/growth.py states the rule) and
writes metrics.json, files.json and summary.md."""
import json
import shlex
import subprocess
import sys
from pathlib import Path

from . import RUN_FILES, STATISTICS

NEEDS = {**RUN_FILES, **STATISTICS}
_LOADGEN_OWN = {"--duration", "-d", "--json", "--ready-file"}


def register(tools):
    g = tools.add_parser(
        "growth", help="leakcheck: does a daemon grow from one round of load to the next",
        description="Two steps of profiling/leakcheck.sh. `rounds`: loads a running daemon "
                    "round after round (loadgen, the same options every round), and reads its "
                    "RSS (perfkit's sampler, statm) when each round's load has ended and a "
                    "settle time passed: DIR/rounds.json. `judge`: adds the heap in use at "
                    "each round's end from heaptrack's data file when given, and fails when "
                    "RSS or heap grows: " + _rule() + ".")
    actions = g.add_subparsers(dest="growth_action", metavar="ACTION", required=True)

    r = actions.add_parser("rounds", help="load a daemon round after round; read its RSS",
                           description="Exit status: 0 every round done (or stopped by "
                                       "SIGTERM/SIGINT: the rounds done are written); 1 the "
                                       "daemon exited or loadgen failed; 2 bad arguments.")
    r.add_argument("--pid", type=int, required=True, help="the daemon")
    r.add_argument("--rounds", type=int, required=True, help="rounds, warm-up included")
    r.add_argument("--warmup-rounds", type=int, default=0, help="(recorded for judge)")
    r.add_argument("--round-seconds", type=float, required=True, help="load in each round")
    r.add_argument("--settle-seconds", type=float, default=1.0,
                   help="quiet after each round's load, before its reading (default 1)")
    r.add_argument("--loadgen", type=Path, help="loadgen's path (required with --load)")
    r.add_argument("--load", default="",
                   help="loadgen run's options, one string ('--count 300 --profile churn'); "
                        "empty: no load, each round only waits")
    r.add_argument("-o", "--output", type=Path, required=True, help="DIR: rounds.json and logs")
    r.set_defaults(main=_rounds, needs=NEEDS)

    j = actions.add_parser("judge", help="decide whether RSS or heap grows; write the files",
                           description="Reads DIR/rounds.json (and a heaptrack data file), "
                                       "writes DIR/metrics.json, files.json and summary.md and "
                                       "prints the summary. Exit status: 0 no growth; 1 growth "
                                       "(or too few rounds to judge); 2 bad input.")
    j.add_argument("dir", type=Path, metavar="DIR")
    j.add_argument("--tolerance", default="64K",
                   help="growth a round let pass: bytes (64K, 1M; units of 1024) or a percent "
                        "of the level (1%%); default 64K")
    j.add_argument("--warmup-rounds", type=int, help="default: as rounds recorded")
    j.add_argument("--heaptrack", type=Path, metavar="FILE",
                   help="heaptrack's data file of the daemon over the rounds")
    when = j.add_mutually_exclusive_group()
    when.add_argument("--heaptrack-ended", type=float, metavar="EPOCH_S",
                      help="when the daemon under heaptrack was told to stop: heaptrack's "
                           "last time stamp is then, which lines its clock up with the "
                           "rounds' (best: heaptrack starts late by however long its pipe "
                           "took to open)")
    when.add_argument("--heaptrack-started", type=float, metavar="EPOCH_S",
                      help="when heaptrack's clock began (the injection's end, when it "
                           "attached to a running daemon)")
    j.add_argument("--prefix", help="metric names begin PREFIX.")
    j.set_defaults(main=_judge, needs=NEEDS)
    return g


def _rule():
    from ..profiles import growth
    return growth.RULE


def _fail(message, status=2):
    print(f"perfkit profile growth: {message}", file=sys.stderr)
    return status


def _rounds(args):
    from ..profiles import growth_rounds
    if args.rounds < 1 or args.round_seconds <= 0 or args.settle_seconds < 0:
        return _fail("--rounds must be at least 1, --round-seconds positive, --settle-seconds "
                     "not negative")
    load_argv = None
    if args.load.strip():
        try:
            words = shlex.split(args.load)
        except ValueError as e:
            return _fail(f"--load {args.load!r}: {e}")
        own = sorted({w.split("=", 1)[0] for w in words} & _LOADGEN_OWN)
        if own:
            return _fail(f"--load: leave {', '.join(own)} out: each round sets them")
        if not args.loadgen:
            return _fail("--load needs --loadgen PATH")
        load_argv = [str(args.loadgen), "run", "--quiet", *words]
        # Its own check of the options, before any round: a typo is a bad argument.
        dry = subprocess.run([*load_argv, "--duration", str(args.round_seconds), "--dry-run"],
                             capture_output=True, text=True)
        if dry.returncode != 0:
            why = (dry.stderr.strip() or dry.stdout.strip()).splitlines()
            return _fail(f"--load {args.load!r}: loadgen refuses it: "
                         f"{why[0] if why else f'exit {dry.returncode}'}")
    args.output.mkdir(parents=True, exist_ok=True)
    try:
        record = growth_rounds.run(args.pid, args.rounds, args.round_seconds,
                                   args.settle_seconds, load_argv, args.output,
                                   warmup=args.warmup_rounds)
    except growth_rounds.RoundsError as e:
        return _fail(str(e), 1)
    except PermissionError as e:
        return _fail(f"pid {args.pid} may not be read: {e}", 1)
    growth_rounds.write(record, args.output / "rounds.json")
    return 0


def _judge(args):
    from ..profiles import growth, growth_heap, growth_report
    path = args.dir / "rounds.json"
    try:
        record = json.loads(path.read_text())
        rounds = record["rounds"]
    except (OSError, ValueError, KeyError) as e:
        return _fail(f"{path}: {e}")
    try:
        tolerance = growth.parse_tolerance(args.tolerance)
    except ValueError as e:
        return _fail(str(e))
    if args.warmup_rounds is not None:
        record["warmup_rounds"] = args.warmup_rounds
    warmup = record["warmup_rounds"]
    if len(rounds) - warmup < growth.MIN_ROUNDS:
        text = (f"# leakcheck: no verdict, {len(rounds)} rounds done with {warmup} of warm-up; "
                f"a trend needs {growth.MIN_ROUNDS} after it\n")
        (args.dir / "summary.md").write_text(text)
        (args.dir / "files.json").write_text(json.dumps(
            [{"kind": "summary", "path": "summary.md", "title": "leakcheck"}]) + "\n")
        print(text, end="")
        return _fail(text[2:].strip(), 1)
    verdicts = [growth.judge("rss", [r["rss_bytes"] for r in rounds], warmup, tolerance)]
    sites, note = None, None
    if args.heaptrack:
        try:
            timeline = _heap_timeline(args, record)
        except (OSError, growth_heap.HeaptrackFormatError) as e:
            return _fail(f"heaptrack data: {e}", 1)
        marks = timeline.marks_ms
        if timeline.last_ms < marks[-1]:
            note = (f"heaptrack's data ends {(marks[-1] - timeline.last_ms) / 1000:.1f} s before "
                    "the last round's end: the last readings may be early")
        verdicts.append(growth.judge("heap", timeline.heap_bytes, warmup, tolerance))
        sites = growth_report.site_growth(timeline, warmup)
    else:
        note = "not measured (no heaptrack data: leakcheck.sh --heaptrack)"
    text = growth_report.write(args.dir, record, verdicts, sites,
                               heaptrack_file=args.heaptrack, heap_note=note, prefix=args.prefix)
    print(text, end="")
    return 1 if any(v.grows for v in verdicts) else 0


def _heap_timeline(args, record):
    """heaptrack's readings at the middle of each round's quiet, which leaves
    half the settle time for the error in lining the two clocks up."""
    from ..profiles import growth_heap
    if args.heaptrack_ended is not None:
        last_ms = growth_heap.last_timestamp_ms(args.heaptrack)
        t0 = args.heaptrack_ended - last_ms / 1000.0
    else:
        # Attached: the injection's end. Neither: the daemon's start, which
        # heaptrack's clock follows by however long its start took.
        t0 = args.heaptrack_started or record["daemon_started_wall"]
    quiet = record["settle_seconds"] / 2
    marks = [max(0.0, (r["mark_wall"] - quiet - t0) * 1000.0) for r in record["rounds"]]
    return growth_heap.read(args.heaptrack, marks)
