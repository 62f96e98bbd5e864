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
Beside them in DIR: heaptrack_print.txt (all of heaptrack_print's text), and
leaked.stacks and peak.stacks (flame-graph stack files of the two costs).
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
    from ..profiles import heaptrack_analyze, heaptrack_summary
    from .. import runfile
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
    except heaptrack_analyze.AnalysisError as e:
        return _say(str(e), 1)
    except OSError as e:
        return _say(f"cannot write into {out}: {e}", 1)

    metrics = heaptrack_summary.metrics(analysis, args.prefix)
    try:
        runfile.validate_metrics(metrics)
    except runfile.RunFormatError as e:
        return _say(f"the metrics are not valid: {e}", 1)
    data = Path(args.file).resolve()
    try:
        data_name = str(data.relative_to(out.resolve()))
    except ValueError:
        data_name = str(data)
    summary = heaptrack_summary.summary_markdown(analysis, data_name, top=args.top,
                                                 status=status, prefix=args.prefix)
    program = Path((analysis.report.command or "").split(" ")[0]).name or data.name
    files = [{"kind": "heaptrack", "path": data_name,
              "title": f"heaptrack recording of {program} (heaptrack --analyze FILE)"},
             {"kind": "summary", "path": "summary.md", "title": "heaptrack summary"}]
    try:
        _write(out / "metrics.json", json.dumps({"metrics": metrics}, indent=1) + "\n")
        _write(out / "files.json", json.dumps(files, indent=1) + "\n")
        _write(out / "summary.md", summary)
    except OSError as e:
        return _say(f"cannot write into {out}: {e}", 1)
    for missing in analysis.report.missing:
        print(f"perfkit: profile heaptrack: heaptrack_print printed no {missing}: left out",
              file=sys.stderr)
    sys.stdout.write(summary)
    return 0


def _write(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _say(message, status):
    print(f"perfkit: profile heaptrack: {message}", file=sys.stderr)
    return status
