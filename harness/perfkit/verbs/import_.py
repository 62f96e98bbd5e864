"""`perfkit import FORMAT FILE... -o RUN.json`: another tool's output as
metrics of a run file, each FILE one process run of the tool."""
import json
import sys
from pathlib import Path

from . import RUN_FILES

NEEDS = RUN_FILES

# format -> (JSON or text, the importer's default prefix)
FORMATS = {"google-benchmark": ("json", "google-benchmark"),
           "pytest-benchmark": ("json", "pytest-benchmark"),
           "hyperfine": ("json", "hyperfine"), "wrk": ("text", "wrk"),
           "lines": ("text", None), "metrics-json": ("json", None), "run": ("json", None)}


def register(sub):
    p = sub.add_parser(
        "import", help="read another tool's output into a perfkit.run/1 file",
        description="Reads each FILE (- for stdin) as one process run of the tool: several "
                    "files of the same metrics give each metric several process runs. "
                    "Exit 0: written; 2: bad input, said in one line.")
    p.add_argument("format", choices=list(FORMATS), metavar="FORMAT",
                   help=" | ".join(FORMATS))
    p.add_argument("files", nargs="+", metavar="FILE", help="the tool's output; - reads stdin")
    p.add_argument("-o", "--output", type=Path, required=True, help="the run file to write")
    p.add_argument("--prefix", help="put before every metric name (PREFIX.name); by default "
                                    "the tool's name, and nothing for lines, metrics-json, run")
    p.add_argument("--append", action="store_true",
                   help="add to the run in -o: a metric it holds gets the new samples as more "
                        "process runs")
    p.add_argument("--build-dir", type=Path, default=Path("build"),
                   help="the build whose compiler and type go in a new run's machine; "
                        "default: build")
    p.set_defaults(main=main, needs=NEEDS)
    return p


class BadInput(Exception):
    """Input that cannot be imported: its one line for stderr."""


def main(args):
    from .. import runfile
    try:
        run = _imported(args)
        runfile.write_run(run, args.output)
    except BadInput as e:
        print(f"perfkit: import: {e}", file=sys.stderr)
        return 2
    except (OSError, runfile.RunFormatError) as e:
        print(f"perfkit: import: cannot write {args.output}: {e}", file=sys.stderr)
        return 2
    print(f"perfkit: wrote {args.output} ({len(run['metrics'])} metrics)", file=sys.stderr)
    return 0


def _imported(args):
    """The run to write: the one in -o (--append) or a new one, with every
    file's metrics joined in."""
    from .. import runfile
    from ..attachments import union
    from ..merge import MergeError, merge_metrics
    if args.files.count("-") > 1:
        raise BadInput("- (stdin) may be given once")
    if args.append:
        try:
            base = runfile.read_run(args.output)
        except OSError as e:
            raise BadInput(f"--append: cannot read {args.output}: {e.strerror}") from None
        except runfile.RunFormatError as e:
            raise BadInput(f"--append: {args.output}: {e}") from None
    else:
        if not args.output.parent.resolve().is_dir():
            raise BadInput(f"cannot write {args.output}: no directory {args.output.parent}")
        base = runfile.new_run(build_dir=args.build_dir)
    attached = []  # a run's files come along, their paths now relative to -o
    lists = [_read(args, f, base, attached) for f in args.files]
    try:
        joined = merge_metrics([base["metrics"], *lists])
    except MergeError as e:
        raise BadInput(str(e)) from None
    touched = {m["name"] for metrics in lists for m in metrics}
    old = {m["name"]: m for m in base["metrics"]}
    for i, m in enumerate(joined):
        if m["name"] not in touched:
            joined[i] = old[m["name"]]  # left as it was written
        elif m["runs"] == [len(m["samples"])]:
            del m["runs"]  # one process run: what an absent `runs` says
    out = {**base, "metrics": joined}
    atts = union(base.get("attachments", []), attached)
    if atts:
        out["attachments"] = atts
    return out


def _read(args, name, base, attached):
    """One file's metrics; any fault in it is BadInput naming the file."""
    from .. import importers
    from ..attachments import rebased, renamed
    kind, default_prefix = FORMATS[args.format]
    prefix = args.prefix or default_prefix
    label = "stdin" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text()
    except OSError as e:
        raise BadInput(f"{label}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{label}: not text") from None
    try:
        doc = json.loads(text) if kind == "json" else text
    except json.JSONDecodeError as e:
        raise BadInput(f"{label}: not JSON ({e})") from None
    notes = []
    try:
        if args.format == "google-benchmark":
            metrics = importers.from_google_benchmark(doc, prefix)
        elif args.format == "pytest-benchmark":
            metrics = importers.from_pytest_benchmark(doc, prefix, notes=notes)
        elif args.format == "hyperfine":
            metrics = importers.from_hyperfine(doc, prefix)
        elif args.format == "wrk":
            metrics = importers.from_wrk(doc, prefix)
        elif args.format == "lines":
            metrics = importers.from_lines(doc, prefix)
        elif args.format == "metrics-json":
            metrics = importers.from_metrics_json(doc, prefix)
        else:
            metrics = _from_run(doc, prefix, base)
            attached += renamed(rebased(doc.get("attachments", []), Path(name).parent,
                                        args.output.parent), prefix)
    except KeyError as e:
        raise BadInput(f"{label}: not {args.format} output (it has no {e.args[0]!r})") from None
    except (TypeError, AttributeError, IndexError) as e:
        raise BadInput(f"{label}: not {args.format} output ({e})") from None
    except ValueError as e:  # the importers' own words, RunFormatError among them
        raise BadInput(f"{label}: {e}") from None
    for note in notes:
        print(f"perfkit: import: {label}: {note}", file=sys.stderr)
    return metrics


def _from_run(doc, prefix, base):
    from .. import runfile
    runfile.validate(doc)
    # Absolute figures compare only on one machine and build (see merge.py).
    if doc["machine"]["fingerprint"] != base["machine"]["fingerprint"]:
        raise ValueError(f"a run of another machine ({doc['machine']['fingerprint']}, this run's "
                         f"is {base['machine']['fingerprint']}): it does not merge")
    return [{**m, "name": f"{prefix}.{m['name']}" if prefix else m["name"]}
            for m in doc["metrics"]]
