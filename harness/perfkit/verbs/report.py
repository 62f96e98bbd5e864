"""`perfkit report RUN.json`: the run judged and written up in markdown, with
plots, and as JUnit and JSON for programs."""
import argparse
import json
import os
import sys
from pathlib import Path

from . import RUN_FILES, STATISTICS

NEEDS = {**RUN_FILES, **STATISTICS, "matplotlib": "python3-matplotlib"}

EPILOG = """It writes OUT/<date>-<revision>.md and OUT/latest.md (the same text), the
plots in OUT/<date>-<revision>/, and prints the report's path and its first
line, the verdict. With GITHUB_STEP_SUMMARY set, the markdown is appended
there too. Exit status: 0 written (the verdict is in the report, --junit and
--json; `perfkit compare` exits by it), 2 bad input."""


def register(sub):
    p = sub.add_parser("report", help="write a markdown report of a run, with plots",
                       description="Judges RUN against this machine's baseline (or, with "
                                   "--against, against another run: an A/B of two builds or "
                                   "configurations, A the other run, B this one) as compare "
                                   "does, and writes it up: the verdict first, a table per "
                                   "area, the system under test's RSS and CPU over time, each "
                                   "change with its interval, the trend of the headline metrics "
                                   "over the history, the machine, links to profiles.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a perfkit.run/1 file")
    side = p.add_mutually_exclusive_group()
    side.add_argument("--baseline", type=Path,
                      help="a baseline file or a directory of them (default: baselines/ of the "
                           "repository)")
    side.add_argument("--against", type=Path, metavar="RUN2.json",
                      help="compare with another run instead (A/B): RUN2 is A, RUN is B")
    p.add_argument("--rules", type=Path, help="per-metric rules (default: metrics.toml beside "
                                              "the baselines)")
    p.add_argument("--threshold", default=None, help="of metrics no rule names (default 10%%)")
    p.add_argument("--confidence", type=float, default=0.95, help="of each interval (0.95)")
    p.add_argument("--history", metavar="STORE",
                   help="a history store (perfkit history) for the trend of the headline "
                        "metrics; default: $PERFKIT_HISTORY when set, else no trend")
    p.add_argument("-o", "--output", type=Path, default=Path("reports"),
                   help="the reports directory (default: reports/)")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write JUnit XML here")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the content as JSON")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def _inputs(args):
    """compare's inputs; for an A/B the other run takes the baseline's place
    (compare marks it portable-only when it is of another machine) and the
    rules are still the repository's."""
    from .compare import default_baselines, inputs
    if args.against is None:
        return inputs(args)
    rules = args.rules
    if rules is None and (default_baselines() / "metrics.toml").exists():
        rules = default_baselines() / "metrics.toml"
    return inputs(argparse.Namespace(**{**vars(args), "baseline": args.against, "rules": rules}))


def main(args):
    from .. import compare
    from ..history.store import StoreError
    from ..report.write import write_report
    from .compare import BadInput
    try:
        run, found, rules = _inputs(args)
    except BadInput as e:
        print(f"perfkit: report: {e}", file=sys.stderr)
        return 2
    if args.history is None and os.environ.get("PERFKIT_HISTORY"):
        args.history = os.environ["PERFKIT_HISTORY"]
    rows = compare.compare(run, found.run, rules, found.portable_only, args.confidence)
    status = compare.exit_status(rows)
    try:
        content, path = write_report(run, args.run, rows, status, found, out_dir=args.output,
                                     against_run=args.against is not None,
                                     confidence=args.confidence, history=args.history)
    except (OSError, ValueError, StoreError) as e:
        print(f"perfkit: report: {e}", file=sys.stderr)
        return 2
    if args.junit:
        from ..report import junit
        junit.write(content, args.junit)
    if args.json:
        args.json.write_text(json.dumps(content, indent=1, allow_nan=False) + "\n")
    print(f"perfkit: report: {path}\n{content['verdict']['line']}")
    return 0
