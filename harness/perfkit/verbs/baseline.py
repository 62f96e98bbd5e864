"""`perfkit baseline update RUN.json...`: this machine's stored baseline."""
import sys
from pathlib import Path

from . import RUN_FILES, STATISTICS

NEEDS = {**RUN_FILES, **STATISTICS}


def register(sub):
    p = sub.add_parser("baseline", help="write or replace this machine's baseline",
                       description="Stores runs as the baseline of their machine's fingerprint "
                                   "(baselines/<fingerprint>.json), every process run and "
                                   "repetition kept, and prints what changed so that a "
                                   "reviewer sees it.")
    verbs = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = verbs.add_parser("update", help="write or replace this machine's baseline",
                          description="Merges the runs (of one build, one machine: each adds "
                                      "its process runs) into that machine's baseline file. "
                                      "Refuses runs that miss a target or lack a metric of the "
                                      "baseline they replace, unless --force. Exit 0 written, "
                                      "1 refused, 2 bad input.")
    up.add_argument("runs", type=Path, nargs="+", metavar="RUN.json")
    up.add_argument("--dir", type=Path, help="the baselines directory (default: baselines/ of "
                                             "the repository)")
    up.add_argument("--force", action="store_true",
                    help="store runs that miss targets or lack metrics all the same")
    up.set_defaults(main=main, needs=NEEDS)
    return p


def main(args):
    from .. import baselines, runfile
    from ..merge import MergeError
    from .compare import default_baselines
    directory = args.dir or default_baselines()
    try:
        runs = [runfile.read_run(p) for p in args.runs]
    except FileNotFoundError as e:
        print(f"perfkit: baseline: {e.filename}: no such file", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"perfkit: baseline: {e}", file=sys.stderr)
        return 2
    try:
        path, lines = baselines.update(runs, directory, force=args.force)
    except MergeError as e:
        print(f"perfkit: baseline: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"perfkit: baseline: refused: {e}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    print(f"wrote {path} (from {len(runs)} run file{'s' * (len(runs) != 1)})")
    return 0
