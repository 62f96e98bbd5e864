"""`perfkit compare RUN.json`: the run judged against its stored baseline."""
import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from . import RUN_FILES, STATISTICS, work_tree

NEEDS = {**RUN_FILES, **STATISTICS}

EPILOG = """exit status:
  0  all well: every judged metric within its threshold, every target met
  1  a regression (the whole interval of a change beyond its threshold, the
     worse way) or a missed target
  2  bad input (a missing file, not a run, a bad threshold or rules file)
  3  inconclusive: too few process runs, or an interval across the threshold
     (the metrics are named, with the runs that would decide them)
  4  no usable baseline for this machine

--confirm CMD runs CMD (through the shell) when something regressed or was
inconclusive; {out} in CMD is a run file it must write (another run of the
same build), {metrics} the names in question. Its runs join the run's and
everything is judged again."""


def register(sub):
    p = sub.add_parser("compare", help="judge a run against its stored baseline",
                       description="Compares each metric of RUN with this machine's baseline\n"
                                   "(a two-level bootstrap over process runs and repetitions)\n"
                                   "and checks each target; prints a table, then exits with\n"
                                   "the verdict.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a perfkit.run/1 file")
    p.add_argument("--baseline", type=Path,
                   help="a baseline file, or a directory of them (one per machine fingerprint); "
                        "default: baselines/ of the repository")
    p.add_argument("--rules", type=Path,
                   help="per-metric thresholds, directions and targets; default: metrics.toml "
                        "beside the baselines, when there is one")
    p.add_argument("--threshold", default=None,
                   help="the threshold of metrics no rule names, as 10%% or 0.1 (default: the "
                        "rules file's, else 10%%)")
    p.add_argument("--confidence", type=float, default=0.95,
                   help="of each change's interval (default 0.95)")
    p.add_argument("--confirm", metavar="CMD",
                   help="re-measure before calling a regression, e.g. 'python3 -m perfkit run "
                        "SCENARIO -o {out}' (see below)")
    p.add_argument("--json", type=Path, help="also write the verdicts as JSON here")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def default_baselines():
    """baselines/ at the top of the git work tree here, else in the current directory."""
    return (work_tree(Path.cwd()) or Path.cwd()) / "baselines"


class BadInput(Exception):
    pass


def inputs(args):
    from .. import baselines, rules, runfile
    if not 0.5 <= args.confidence < 1:
        raise BadInput(f"--confidence {args.confidence} is not between 0.5 and 1")
    try:
        threshold = None if args.threshold is None else rules.parse_threshold(args.threshold)
        run = runfile.read_run(args.run)
        where = args.baseline or default_baselines()
        rules_path = args.rules or (where if where.is_dir() else where.parent) / "metrics.toml"
        if args.rules or rules_path.exists():
            metric_rules = rules.load(rules_path, threshold)
        else:
            metric_rules = rules.Rules(threshold=threshold if threshold is not None
                                       else rules.DEFAULT_THRESHOLD)
        if args.baseline is None and not where.exists():
            found = baselines.Found(None, None)
        else:
            found = baselines.find(where, run["machine"])
    except FileNotFoundError as e:
        raise BadInput(f"{e.filename or e}: no such file") from None
    except (OSError, ValueError) as e:  # RunFormatError and RulesError are ValueErrors
        raise BadInput(str(e)) from None
    return run, found, metric_rules


def _confirm(cmd, run, rows):
    """Runs CMD for another run of the same build; returns the runs merged, or
    None (and says why) when it could not."""
    from .. import runfile
    from ..merge import MergeError, merge_runs
    from ..verdict import INCONCLUSIVE, REGRESSION, TOO_FEW
    doubtful = [r.name for r in rows if r.verdict in (REGRESSION, INCONCLUSIVE, TOO_FEW)]
    if not doubtful:
        return None
    with tempfile.TemporaryDirectory(prefix="perfkit-confirm-") as tmp:
        out = Path(tmp) / "confirm.json"
        line = cmd.replace("{out}", shlex.quote(str(out))).replace(
            "{metrics}", " ".join(shlex.quote(n) for n in doubtful))
        print(f"confirm: {len(doubtful)} metrics in doubt; running: {line}", file=sys.stderr)
        status = subprocess.run(line, shell=True).returncode
        if status != 0:
            print(f"confirm: the command failed with status {status}; judged without it",
                  file=sys.stderr)
            return None
        try:
            return merge_runs([run, runfile.read_run(out)])
        except (OSError, ValueError, MergeError) as e:
            print(f"confirm: its run is of no use ({e}); judged without it", file=sys.stderr)
            return None


def main(args):
    from .. import compare, compare_table
    try:
        run, found, metric_rules = inputs(args)
    except BadInput as e:
        print(f"perfkit: compare: {e}", file=sys.stderr)
        return compare.EXIT_INPUT
    rows = compare.compare(run, found.run, metric_rules, found.portable_only, args.confidence)
    status = compare.exit_status(rows)
    if args.confirm and status in (compare.EXIT_FAIL, compare.EXIT_INCONCLUSIVE):
        print(f"first verdict: {compare_table.summary(rows, status)}", file=sys.stderr)
        merged = _confirm(args.confirm, run, rows)
        if merged is not None:
            run = merged
            rows = compare.compare(run, found.run, metric_rules, found.portable_only,
                                   args.confidence)
            status = compare.exit_status(rows)
    print(_header(args.run, run, found))
    print("\n".join(compare_table.lines(rows, args.confidence)))
    print(compare_table.summary(rows, status))
    if args.json:
        _write_json(args.json, run, found, rows, status)
    return status


def _header(path, run, found):
    def about(r):
        runs = max((len(m.get("runs") or [1]) for m in r["metrics"]), default=0)
        return f"revision {r['revision'][:12]}, up to {runs} process runs a metric"
    head = f"{path} ({about(run)})"
    if found.run is None:
        return head + ": no baseline for this machine (fingerprint " \
                      f"{run['machine']['fingerprint']})"
    head += f"\nagainst {found.path} ({about(found.run)})"
    if found.portable_only:
        head += ("\nthe baseline is of another machine (" + "; ".join(found.differences)
                 + "): only portable metrics are compared")
    return head


def _write_json(path, run, found, rows, status):
    doc = {"schema": "perfkit.compare/1", "status": status, "revision": run["revision"],
           "baseline": str(found.path) if found.path else None,
           "portable_only": found.portable_only, "differences": found.differences,
           "metrics": [r.as_dict() for r in rows]}
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
