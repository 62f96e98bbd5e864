"""`perfkit export bmf RUN.json [-o FILE]`: a run in another tool's format.
bmf: Bencher's Metric Format (https://bencher.dev/docs/reference/bencher-metric-format)."""
import json
import statistics
import sys
from pathlib import Path

from . import RUN_FILES

NEEDS = RUN_FILES

# unit -> Bencher measure, and the factor to its unit. Bencher's built-in
# Latency is in nanoseconds and Throughput in operations per second; any
# other unit becomes a measure of its own name, which Bencher creates.
_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def _measure(unit):
    if unit in _TO_NS:
        return "latency", _TO_NS[unit]
    if unit == "1/s":
        return "throughput", 1.0
    return unit, 1.0


def register(sub):
    p = sub.add_parser(
        "export", help="write a run file in another tool's format (bmf: Bencher)",
        description="bmf: Bencher Metric Format JSON, one benchmark per metric: value the "
                    "median of its samples, lower_value and upper_value their min and max; "
                    "time units as latency in ns, 1/s as throughput, any other unit a "
                    "measure of that name. Exit 0: written; 2: bad input.")
    p.add_argument("format", choices=["bmf"], metavar="FORMAT", help="bmf")
    p.add_argument("run", type=Path, metavar="RUN.json", help="a perfkit.run/1 file")
    p.add_argument("-o", "--output", type=Path, help="the file to write; default: stdout")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def to_bmf(run):
    out = {}
    for m in run["metrics"]:
        slug, factor = _measure(m["unit"])
        samples = [x * factor for x in m["samples"]]
        out[m["name"]] = {slug: {"value": statistics.median(samples),
                                 "lower_value": min(samples), "upper_value": max(samples)}}
    return out


def main(args):
    from .. import runfile
    try:
        run = runfile.read_run(args.run)
    except OSError as e:
        print(f"perfkit: export: cannot read {args.run}: {e.strerror}", file=sys.stderr)
        return 2
    except runfile.RunFormatError as e:
        print(f"perfkit: export: {args.run}: {e}", file=sys.stderr)
        return 2
    text = json.dumps(to_bmf(run), indent=1) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text)
    except OSError as e:
        print(f"perfkit: export: cannot write {args.output}: {e.strerror}", file=sys.stderr)
        return 2
    return 0
