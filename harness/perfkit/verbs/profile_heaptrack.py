"""`perfkit profile heaptrack FILE -o DIR`: a heaptrack recording summarised
as perfkit metrics (metrics.json), the files a report links (files.json) and
summary.md, which it also prints."""
import argparse
import json
import sys
from pathlib import Path

from . import RUN_FILES

NEEDS = RUN_FILES

EPILOG = """Metrics (bytes or count; lower is better), decimal sizes as heaptrack counts:
  heap.peak_bytes              the most heap in use at once (exact)
  heap.peak_rss_bytes          peak RSS, heaptrack's own memory included (heaptrack
                               prints 3-4 digits: within 0.5 %)
  heap.allocations             calls to malloc, new, calloc, realloc...
  heap.temporary_allocations   of those, freed before the next allocation
  heap.leaked_bytes            not freed by the end (exact); of a process heaptrack
                               was attached to: still allocated when it detached
A figure heaptrack_print did not print is left out and said, never a zero.
Beside them in DIR: heaptrack_print.txt (all of heaptrack_print's text),
leaked.stacks and peak.stacks (its stack files of the two costs), the same as
folded stacks (leaked.folded, peak.folded), and their flame graphs
(flamegraph-peak.svg, flamegraph-leaked.svg; none for a cost no stack holds).
Exit status: 0 written; 1 the recording could not be analysed (said in one
line); 2 bad arguments, or heaptrack_print missing."""


def register(tools):
    p = tools.add_parser(
        "heaptrack", help="summarise a heaptrack recording",
        description="Runs heaptrack_print over a heaptrack recording (heaptrack.*.zst or .gz) "
                    "and writes into DIR metrics.json, files.json and summary.md: the totals, "
                    "and the top sites of each list (peak, leaks, most calls, most temporary) "
                    "with their stacks. profiling/heaptrack.sh records and calls this.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, help="the recording, heaptrack.NAME.zst")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                   help="where the files go (made if missing)")
    p.add_argument("--prefix", help="metric names begin PREFIX.")
    p.add_argument("--top", type=int, default=5, metavar="N",
                   help="sites of each list in summary.md (default 5)")
    p.add_argument("--record-status", type=Path, metavar="FILE",
                   help="what `perfkit profile heaptrack-record --status` wrote: whether the "
                        "program was stopped, for the summary's words")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def main(args):
    from ..profiles import heaptrack_analyze, heaptrack_summary, outdir
    import shutil

    if args.top < 1:
        return _say("--top must be 1 or more", 2)
    if shutil.which("heaptrack_print") is None:
        return _say("heaptrack_print is not installed: apt-get install heaptrack", 2)
    status = None
    if args.record_status:
        try:
            status = json.loads(args.record_status.read_text())
        except (OSError, ValueError) as e:
            return _say(f"--record-status {args.record_status}: {e}", 2)
    out = args.output
    try:
        out.mkdir(parents=True, exist_ok=True)
        analysis = heaptrack_analyze.analyze(args.file, out, top=args.top)
        graphs = _flamegraphs(analysis, out, outdir)
    except heaptrack_analyze.AnalysisError as e:
        return _say(str(e), 1)
    except OSError as e:
        return _say(f"cannot write into {out}: {e}", 1)

    data = Path(args.file).resolve()
    try:
        data_name = str(data.relative_to(out.resolve()))
    except ValueError:
        data_name = None  # outside DIR: listed by its absolute path
    summary = heaptrack_summary.summary_markdown(
        analysis, data_name or str(data), top=args.top, status=status, prefix=args.prefix,
        more=[note for _, _, note in graphs])
    files = [{"kind": "flamegraph", "path": svg, "title": title} for svg, title, _ in graphs
             if svg]
    files.append({"kind": "heaptrack", "path": data_name or str(data),
                  "title": f"heaptrack recording of {_program(analysis)} "
                           f"(heaptrack --analyze FILE)"})
    try:
        outdir.write(out, heaptrack_summary.metrics(analysis, args.prefix), summary, files,
                     summary_title="heaptrack summary")
    except ValueError as e:
        return _say(f"the metrics are not valid: {e}", 1)
    except OSError as e:
        return _say(f"cannot write into {out}: {e}", 1)
    for missing in analysis.report.missing:
        print(f"perfkit: profile heaptrack: heaptrack_print printed no {missing}: left out",
              file=sys.stderr)
    sys.stdout.write(summary)
    return 0


# (cost, folded file, svg, title): the flame graphs of the two byte costs.
GRAPHS = [("peak", "peak.folded", "flamegraph-peak.svg",
           "heaptrack: heap held at the peak (widths in bytes)"),
          ("leaked", "leaked.folded", "flamegraph-leaked.svg",
           "heaptrack: leaked (widths in bytes)")]


def _program(analysis):
    return Path((analysis.report.command or "").split(" ")[0]).name or analysis.data_file.name


def _flamegraphs(analysis, out, outdir):
    """The stack files as folded stacks (the program, then main... the
    allocating function; in bytes) and their flame graphs:
    [(svg or None, title, a line for the summary)]."""
    from collections import Counter
    from ..profiles import folded
    root = _program(analysis).replace(";", ":")
    made = []
    for cost, name, svg, title in GRAPHS:
        stacks = Counter()
        for frames, value in analysis.stacks.get(cost, []):
            if value > 0:
                path = [root, *(f.replace(";", ":") for f in reversed(frames))]
                stacks[";".join(path)] += value
        with open(out / name, "w") as f:
            folded.write(stacks, f)
        if not stacks:
            made.append((None, title, f"No {cost} flame graph: no stack holds {cost} bytes."))
            continue
        svg_made, note = outdir.flamegraph(out, stacks, svg, title, unit="bytes")
        made.append((svg_made, title, note))
    return made


def _say(message, status):
    print(f"perfkit: profile heaptrack: {message}", file=sys.stderr)
    return status
