"""`perfkit profile instruments time|alloc|leaks`: what profiling/instruments.sh
exported from a macOS trace (or leaks' report), into the output directory's
metrics.json, files.json and summary.md (printed too); `time` also writes
stacks.folded and flamegraph.svg."""
import sys
from pathlib import Path

from . import RUN_FILES

NEEDS = RUN_FILES


def register(tools):
    p = tools.add_parser(
        "instruments", help="macOS: xctrace exports and leaks reports -> metrics",
        description="Reads what profiling/instruments.sh exported (xctrace export XML, leaks' "
                    "report) and writes DIR/metrics.json, files.json and summary.md. "
                    "Exit 0: written; 2: the input does not parse, said in one line.")
    modes = p.add_subparsers(dest="mode", metavar="MODE", required=True)

    t = modes.add_parser("time", help="Time Profiler: cpu.samples and folded stacks")
    t.add_argument("--table", type=Path, required=True,
                   help="the time-profile table (xctrace export --xpath ...)")
    t.add_argument("--toc", type=Path, help="the trace's table of contents (xctrace export --toc): "
                                            "gives the launched process's pid")
    t.add_argument("--pid", type=int, help="count this process's samples (default: the TOC's target)")
    t.add_argument("--all-processes", action="store_true", help="count every process's samples")

    a = modes.add_parser("alloc", help="Allocations: heap.allocations, heap.persistent_bytes")
    a.add_argument("--statistics", type=Path, required=True,
                   help="the Allocations track's Statistics detail (xctrace export --xpath ...)")
    a.add_argument("--toc", type=Path, help="the trace's table of contents")

    k = modes.add_parser("leaks", help="leaks(1): heap.leaked_bytes, heap.leaked_blocks")
    k.add_argument("--report", type=Path, required=True, help="what leaks printed")

    for sub in (t, a, k):
        sub.add_argument("--out", type=Path, required=True, help="the wrapper's output directory")
        sub.add_argument("--prefix", help="metric names begin PREFIX.")
        sub.set_defaults(main=main, needs=NEEDS)
    return p


def main(args):
    from ..profiles import instruments, outdir
    from ..profiles import folded
    from ..profiles.sampled_stacks import as_folded
    try:
        files = []
        if args.mode == "time":
            toc = instruments.parse_toc(args.toc.read_text()) if args.toc else None
            pid = None if args.all_processes else (
                args.pid if args.pid is not None else (toc.target_pid if toc else None))
            prof = instruments.parse_time_profile(args.table.read_text(), pid=pid)
            if prof.samples == 0:
                seen = ", ".join(p for p, _ in prof.processes.most_common(5)) or "none"
                raise ValueError(f"no samples of pid {pid} in {args.table} (processes seen: {seen})")
            args.out.mkdir(parents=True, exist_ok=True)
            stacks = as_folded(prof.stacks)
            with open(args.out / "stacks.folded", "w") as f:
                folded.write(stacks, f)
            svg, note = outdir.flamegraph(args.out, stacks, "flamegraph.svg",
                                          "Time Profiler" + (f" pid {pid}" if pid else ""))
            if svg:
                files.append({"kind": "flamegraph", "path": svg, "title": "CPU flame graph (Time Profiler)"})
            metrics = instruments.time_metrics(prof, args.prefix)
            summary = instruments.time_summary(prof, toc) + "\n" + note + "\n"
        elif args.mode == "alloc":
            toc = instruments.parse_toc(args.toc.read_text()) if args.toc else None
            stats = instruments.parse_allocation_statistics(args.statistics.read_text())
            metrics = instruments.alloc_metrics(stats, args.prefix)
            summary = instruments.alloc_summary(stats, toc)
        else:
            rep = instruments.parse_leaks(args.report.read_text(errors="replace"))
            metrics = instruments.leaks_metrics(rep, args.prefix)
            summary = instruments.leaks_summary(rep)
        outdir.write(args.out, metrics, summary, files)
    except (OSError, ValueError) as e:
        print(f"perfkit: profile instruments {args.mode}: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(summary)
    return 0
