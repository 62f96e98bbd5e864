"""`perfkit profile perf DIR --script FILE|-`: a perf.sh directory made
whole: perf script text folded into DIR/stacks.folded, DIR/flamegraph.svg,
and from those, DIR/stat.csv and DIR/plan.json: metrics.json, files.json and
summary.md (perfkit.profiles.perf_summary)."""
import sys
from pathlib import Path

from . import RUN_FILES

NEEDS = RUN_FILES


def register(tools):
    p = tools.add_parser(
        "perf", help="fold perf script text, draw the flame graph, write metrics and summary",
        description="Folds `perf script` text (or reads folded stacks) into DIR/stacks.folded, "
                    "draws DIR/flamegraph.svg, and writes DIR/metrics.json (cpu.samples and the "
                    "counters of DIR/stat.csv that were counted), DIR/files.json and "
                    "DIR/summary.md (top functions by self and inclusive share). Exit 0: "
                    "written; 1: no samples; 2: bad input.")
    p.add_argument("dir", type=Path, metavar="DIR")
    p.add_argument("--script", default=None, metavar="FILE",
                   help="perf script text or folded stacks, - for stdin (default: "
                        "DIR/stacks.folded as it is)")
    p.add_argument("--prefix", help="metric names begin PREFIX.")
    p.add_argument("--title", default=None, help="the flame graph's title")
    p.add_argument("--target", default="", help="what was profiled, for the summary")
    p.add_argument("--freq", type=int, help="the sampling frequency (Hz)")
    p.add_argument("--call-graph", default="fp", help="fp or dwarf[,SIZE]")
    p.add_argument("--seconds", type=float, help="the wall time recorded")
    p.add_argument("--exit-status", type=int, help="the profiled program's exit status")
    p.add_argument("--stat-how", default="", help="how the counters were taken, for the summary")
    p.add_argument("--event", default=None,
                   help="the sampled event (read from perf script text when not given)")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def main(args):
    from ..profiles import flamegraph, folded, perf_summary
    from .profile_flamegraph import read_stacks
    source = args.script if args.script is not None else str(args.dir / "stacks.folded")
    read = read_stacks(source, "perf")
    if read is None:
        return 2
    stacks, event = read
    if not stacks:
        print(f"perfkit: profile perf: no samples in {source}: the program ran too briefly, "
              "or perf recorded nothing", file=sys.stderr)
        return 1
    event = args.event or event
    run = perf_summary.Run(target=args.target, freq=args.freq, call_graph=args.call_graph,
                           seconds=args.seconds, exit_status=args.exit_status,
                           stat_how=args.stat_how)
    total = folded.total(stacks)
    title = args.title or (f"perf: {args.target}" if args.target else "perf")
    subtitle = f"{total:g} samples" + (f" of {event}" if event else "") + (
        f" at {args.freq} Hz" if args.freq else "")
    try:
        if args.script is not None:
            with open(args.dir / "stacks.folded", "w") as out:
                folded.write(stacks, out)
        (args.dir / "flamegraph.svg").write_text(flamegraph.render(stacks, title, subtitle))
        perf_summary.write(args.dir, stacks, event, run, args.prefix)
    except OSError as e:
        print(f"perfkit: profile perf: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    return 0
