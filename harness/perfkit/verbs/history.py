"""`perfkit history add RUN.json...` keeps runs in a history store;
`perfkit history [show]` shows each metric's trend and its change points."""
import json
import os
import sys
from pathlib import Path

from . import RUN_FILES, STATISTICS

NEEDS = {**RUN_FILES, **STATISTICS}
DEFAULT_STORE = "history.sqlite"


def register(sub):
    h = sub.add_parser(
        "history", help="keep runs in a history; show each metric's trend and change points",
        description="add: keeps run files in the history store (again adding a run already "
                    "kept, by machine fingerprint, revision and start, changes nothing). "
                    "show (the default): each metric's series of per-run medians, per machine "
                    "fingerprint, and the steps in it (change points) with the revision each "
                    "began at. Exit status: 0, also when no runs are stored (it says so); "
                    "2 for bad input (a missing or invalid run file, an unreadable store).")
    h.add_argument("action", nargs="?", choices=["show", "add"], default="show",
                   help="show (the default) or add")
    h.add_argument("files", nargs="*", type=Path, metavar="RUN.json", help="add: the run files")
    h.add_argument("--store", help="the history: a SQLite file, or a directory of JSON lines "
                                   "(a path ending in / or an existing directory); default: "
                                   f"$PERFKIT_HISTORY, else {DEFAULT_STORE}")
    h.add_argument("--metric", default="*", help="show: only metrics matching this glob")
    h.add_argument("--fingerprint", help="show: only runs of this machine fingerprint")
    h.add_argument("--json", type=Path, metavar="FILE",
                   help="show: also write the trends and change points as JSON")
    h.add_argument("--min-change", type=float, default=None, metavar="FRACTION",
                   help="show: smallest step reported, relative (default 0.05)")
    h.set_defaults(main=main, needs=NEEDS)
    return h


def _fail(message):
    print(f"perfkit: history: {message}", file=sys.stderr)
    return 2


def main(args):
    store = args.store or os.environ.get("PERFKIT_HISTORY") or DEFAULT_STORE
    if args.action == "add":
        if not args.files:
            return _fail("add: name at least one run file")
        if args.json or args.fingerprint or args.metric != "*" or args.min_change is not None:
            return _fail("add: --json, --metric, --fingerprint and --min-change are for show")
        return _add(args.files, store)
    if args.files:
        return _fail(f"show takes no run files ({args.files[0]}): did you mean history add?")
    return _show(args, store)


def _add(files, path):
    from .. import runfile
    from ..history.store import StoreError, open_store
    runs = []
    # Every file read before any is kept: a bad one leaves the history as it was.
    for f in files:
        try:
            runs.append(runfile.read_run(f))
        except OSError as e:
            return _fail(f"{f}: {e.strerror}")
        except runfile.RunFormatError as e:
            # Some of read_run's messages name the file already.
            return _fail(str(e) if str(e).startswith(str(f)) else f"{f}: {e}")
    try:
        with open_store(path, create=True) as store:
            added = sum(store.append(r) for r in runs)
    except StoreError as e:
        return _fail(str(e))
    kept = len(runs) - added
    print(f"perfkit: history: {added} run{'s' * (added != 1)} added to {path}"
          + (f", {kept} already kept" if kept else ""), file=sys.stderr)
    return 0


def _show(args, path):
    from ..history import trend
    from ..history.store import StoreError, open_store
    if args.min_change is not None and not 0 < args.min_change < 10:
        return _fail(f"--min-change {args.min_change}: give a fraction, e.g. 0.05 for 5 %")
    options = {} if args.min_change is None else {"min_relative": args.min_change}
    runs, missing = [], not Path(path).exists()
    if not missing:  # a history not made yet is an empty one, said so below
        try:
            with open_store(path) as store:
                runs = store.runs(fingerprint=args.fingerprint, metric=args.metric)
        except StoreError as e:
            return _fail(str(e))
    reports = [trend.report(s, **options) for s in trend.series(runs)]
    if args.json:
        try:
            args.json.write_text(json.dumps({"store": str(path), "series": reports}, indent=1) + "\n")
        except OSError as e:
            return _fail(f"cannot write {args.json}: {e.strerror}")
    if not reports:
        which = [f"metric {args.metric}"] if args.metric != "*" else []
        which += [f"fingerprint {args.fingerprint}"] if args.fingerprint else []
        print(f"perfkit: history: no runs stored in {path}"
              + (" (it does not exist yet: history add makes it)" if missing else "")
              + (f" with {' and '.join(which)}" if which else ""), file=sys.stderr)
        return 0
    ascii_only = not _can_print(trend.SPARK)
    print("\n".join(trend.text(reports, ascii_only=ascii_only)))
    return 0


def _can_print(chars):
    try:
        chars.encode(sys.stdout.encoding or "ascii")
        return True
    except UnicodeEncodeError:
        return False
