"""`perfkit profile etw cpu|heap`: what profiling/etw.ps1 exported from a WPR
recording with xperf, into the output directory's metrics.json, files.json
and summary.md (printed too); `cpu` also writes stacks.folded and
flamegraph.svg."""
import sys
from pathlib import Path

from . import RUN_FILES

NEEDS = RUN_FILES


def register(tools):
    p = tools.add_parser(
        "etw", help="Windows: xperf's text of a WPR recording -> metrics",
        description="Reads what profiling/etw.ps1 exported with xperf and writes "
                    "DIR/metrics.json, files.json and summary.md. Exit 0: written; 2: the "
                    "input does not parse, said in one line.")
    modes = p.add_subparsers(dest="mode", metavar="MODE", required=True)

    c = modes.add_parser("cpu", help="CPU: cpu.samples and folded stacks")
    c.add_argument("--dump", type=Path, required=True,
                   help="xperf -i trace.etl -symbols -a dumper -stacktimeshifting -o FILE")
    who = c.add_mutually_exclusive_group()
    who.add_argument("--pid", type=int, help="count this process's samples")
    who.add_argument("--process-name", help="count the samples of every process of this name")

    h = modes.add_parser("heap", help="heap: heap.allocations, heap.outstanding_bytes")
    h.add_argument("--totals", type=Path, required=True,
                   help="xperf -i heap.etl -a heap -totals -pid PID -o FILE")
    h.add_argument("--pid", type=int, help="the process it is of (for the summary)")

    for sub in (c, h):
        sub.add_argument("--out", type=Path, required=True, help="the wrapper's output directory")
        sub.add_argument("--prefix", help="metric names begin PREFIX.")
        sub.set_defaults(main=main, needs=NEEDS)
    return p


def main(args):
    from ..profiles import etw, outdir
    from ..profiles import folded
    from ..profiles.sampled_stacks import as_folded
    try:
        files = []
        if args.mode == "cpu":
            # xperf writes the dumper's text in the console's code page; no
            # byte of it matters beyond ASCII here.
            with open(args.dump, encoding="utf-8", errors="replace") as f:
                prof = etw.parse_dumper(f, pid=args.pid, name=args.process_name)
            if prof.samples == 0:
                seen = ", ".join(p for p, _ in prof.processes.most_common(5)) or "none"
                raise ValueError(f"no SampledProfile events of "
                                 f"{args.pid or args.process_name or 'any process'} in "
                                 f"{args.dump} (processes seen: {seen})")
            args.out.mkdir(parents=True, exist_ok=True)
            stacks = as_folded(prof.stacks)
            with open(args.out / "stacks.folded", "w") as f:
                folded.write(stacks, f)
            svg, note = outdir.flamegraph(args.out, stacks, "flamegraph.svg",
                                          "CPU (ETW)" + (f" pid {args.pid}" if args.pid else ""))
            if svg:
                files.append({"kind": "flamegraph", "path": svg, "title": "CPU flame graph (ETW)"})
            metrics = etw.cpu_metrics(prof, args.prefix)
            summary = etw.cpu_summary(prof) + "\n" + note + "\n"
        else:
            total, heaps = etw.parse_heap_totals(
                args.totals.read_text(encoding="utf-8", errors="replace"))
            metrics = etw.heap_metrics(total, args.prefix)
            summary = etw.heap_summary(total, heaps, args.pid)
        outdir.write(args.out, metrics, summary, files)
    except (OSError, ValueError) as e:
        print(f"perfkit: profile etw {args.mode}: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(summary)
    return 0
