"""`perfkit profile callgrind DIR ...`: what profiling/callgrind.sh left in
DIR (run-1/, run-2/, ...: callgrind's output of each process run) turned into
metrics.json, files.json and summary.md there; the summary is also printed."""
import json
import sys
from pathlib import Path

from . import RUN_FILES

NEEDS = RUN_FILES


def register(tools):
    p = tools.add_parser(
        "callgrind", help="instructions per call (or in all) from callgrind's output",
        description="Reads DIR/run-N/callgrind.out.* (one directory per process run) and writes "
                    "DIR/metrics.json (instructions.NAME: count, lower is better, portable), "
                    "DIR/files.json and DIR/summary.md, which it prints. Exit 0: written; 1: a "
                    "run gave no figure (nothing counted, a function never called); 2: bad "
                    "arguments or files that are not callgrind's.")
    p.add_argument("dir", type=Path, metavar="DIR")
    p.add_argument("--per-call", action="append", nargs=2, default=[],
                   metavar=("NAME", "FUNCTION"),
                   help="instructions.NAME = instructions per call of FUNCTION (callgrind's "
                        "name, a qualified name without parameters, or a pattern with * and ?); "
                        "with several parts a run, the median of the parts' figures. An empty "
                        "NAME: the function's own last word")
    p.add_argument("--inclusive", action="append", nargs=2, default=[],
                   metavar=("NAME", "FUNCTION"),
                   help="instructions.NAME = FUNCTION's inclusive instructions per call, read "
                        "from its callers' call costs (no --toggle-collect needed), over all "
                        "its calls in a run")
    p.add_argument("--less", action="append", default=[], metavar="FUNCTION",
                   help="--per-call and --total counts leave out FUNCTION's inclusive cost "
                        "(a slower path measured on its own with --inclusive); a pattern "
                        "matching a function and its callee would take the callee off twice")
    p.add_argument("--total", action="append", default=[], metavar="NAME",
                   help="instructions.NAME = every instruction counted (the whole run, or inside "
                        "the toggled function)")
    p.add_argument("--command", default="the program", help="what ran, for the summary")
    p.add_argument("--counted", default="the whole run", help="what was counted, for the summary")
    p.add_argument("--note", action="append", default=[], help="a line for the summary")
    p.add_argument("--toggle", help="the function given to --toggle-collect: nested calls of it "
                                    "are warned about")
    p.add_argument("--prefix", help="metric names begin PREFIX.")
    p.add_argument("--merge", nargs="+", metavar="SUBDIR",
                   help="instead: join what this verb wrote into DIR/SUBDIR (each preset's) "
                        "into DIR's metrics.json, files.json and summary.md")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def default_name(function):
    """`procmond::LinuxCollector::collect()` -> `collect`; `*append*` -> `append`."""
    word = function.split("(")[0].split("::")[-1].strip("*? ")
    word = "".join(c if c.isalnum() or c in "_.-" else "_" for c in word)
    return word or "calls"


def _wanted(args):
    from ..profiles.callgrind_metrics import Wanted
    less = tuple(args.less)
    wanted = [Wanted(name, None, less) for name in args.total]
    for option, pairs in (("--per-call", args.per_call), ("--inclusive", args.inclusive)):
        for name, function in pairs:
            if not function:
                raise ValueError(f"{option}: an empty FUNCTION")
            inclusive = option == "--inclusive"
            wanted.append(Wanted(name or default_name(function), function,
                                 () if inclusive else less, inclusive))
    if not wanted:
        raise ValueError("nothing to measure: give --per-call NAME FUNCTION, --inclusive NAME "
                         "FUNCTION or --total NAME")
    if len({w.name for w in wanted}) != len(wanted):
        raise ValueError("a metric name is given twice")
    for w in wanted:
        if not all(c.isalnum() or c in "_.-" for c in w.name):
            raise ValueError(f"metric name {w.name!r}: letters, digits, _ . - only")
    return wanted


def main(args):
    from ..profiles import callgrind, callgrind_metrics as cm, outdir
    out = args.dir
    if args.merge:
        return _merge(out, args.merge)
    try:
        wanted = _wanted(args)
        dirs = cm.run_dirs(out) if out.is_dir() else []
        if not dirs:
            raise ValueError(f"{out}: no run-N directories of callgrind output")
        runs = [cm.read_run(d) for d in dirs]
    except (ValueError, OSError) as e:  # CallgrindFormatError is a ValueError
        status = 1 if isinstance(e, cm.NoFigure) else 2
        print(f"perfkit: profile callgrind: {e}", file=sys.stderr)
        return status
    try:
        figs = cm.figures(runs, wanted)
    except cm.NoFigure as e:
        print(f"perfkit: profile callgrind: {e}", file=sys.stderr)
        return 1
    notes = list(args.note)
    if args.toggle:
        inner = callgrind.nested(runs[0], args.toggle)
        if inner:
            notes.append(f"WARNING: {', '.join(inner)} calls another function matching "
                         f"--toggle {args.toggle!r}: collection was toggled off inside it, "
                         "so its count is short. Give a narrower name.")
    metrics = cm.metrics(figs, args.prefix)
    first = cm.run_files(dirs[0])[0]
    text = cm.summary(figs, wanted, args.command, args.counted, runs, notes, args.prefix,
                      raw=first.relative_to(out))
    outdir.write(out, metrics, text, cm.files(out, dirs), summary_title="callgrind summary")
    print(text, end="")
    return 0


def _merge(out, subdirs):
    """Each SUBDIR's metrics, files (paths made relative to DIR) and summary, joined."""
    from ..profiles import outdir
    metrics, files, texts = [], [], []
    try:
        for sub in subdirs:
            d = out / sub
            metrics += json.loads((d / "metrics.json").read_text())["metrics"]
            files += [{**f, "path": f"{sub}/{f['path']}", "title": f"{sub}: {f['title']}"}
                      for f in json.loads((d / "files.json").read_text())]
            texts.append((d / "summary.md").read_text().replace(
                "# callgrind: ", f"## {sub}: ", 1))
        text = "# callgrind: instructions per unit of work\n\n" + "\n".join(texts)
        outdir.write(out, metrics, text, [f for f in files if f["kind"] != "summary"],
                     summary_title="callgrind summary")
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"perfkit: profile callgrind: --merge: {e}", file=sys.stderr)
        return 2
    print(text, end="")
    return 0
