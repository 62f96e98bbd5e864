"""`perfkit profile flamegraph IN -o OUT.svg [--title T] [--folded-out F]`:
a flame graph of `perf script` text or of folded stacks (which of the two
is told from the first lines), IN a file or - for stdin."""
import io
import itertools
import sys
from pathlib import Path

NEEDS = {}


def register(tools):
    p = tools.add_parser(
        "flamegraph", help="an SVG flame graph of perf script text or folded stacks",
        description="Reads `perf script` output (fold it first: perf script -F "
                    "comm,pid,tid,time,period,event,ip,sym,dso) or folded stacks "
                    "('frame;frame;frame COUNT' lines), told apart by their first lines, and "
                    "writes one self-contained SVG: hover for a frame's samples, click to zoom, "
                    "Ctrl-F to search by regular expression. Exit 0: written; 1: no samples; "
                    "2: bad input.")
    p.add_argument("input", metavar="IN", help="perf script text or folded stacks; - for stdin")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.svg")
    p.add_argument("--title", default="Flame graph", help="the graph's title")
    p.add_argument("--folded-out", type=Path, metavar="F",
                   help="also write the folded stacks to F")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def open_input(name):
    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    return open(name, encoding="utf-8", errors="replace")


def load_stacks(f, source):
    """(stacks, event or None, what was left out): folded lines are read as
    they are, anything else is folded as perf script text."""
    from ..profiles import folded, perf_script
    head = list(itertools.islice(f, 20))
    lines = itertools.chain(head, f)
    if folded.looks_folded(head):
        return folded.read(lines, source), None, []
    result = perf_script.fold(lines)
    notes = []
    if result.other_events:
        notes.append("left out samples of other events: " + ", ".join(
            f"{e} ({n})" for e, n in sorted(result.other_events.items())))
    return result.stacks, result.event, notes


def read_stacks(source, verb):
    """(stacks, event) of a file or -, each note said on stderr; None when it
    cannot be read, said in one line (the verb then exits 2)."""
    from ..profiles import folded
    try:
        with open_input(source) as f:
            stacks, event, notes = load_stacks(f, source)
    except OSError as e:
        print(f"perfkit: profile {verb}: cannot read {source}: {e.strerror}", file=sys.stderr)
        return None
    except folded.FoldedFormatError as e:
        print(f"perfkit: profile {verb}: {e}", file=sys.stderr)
        return None
    for n in notes:
        print(f"perfkit: profile {verb}: {n}", file=sys.stderr)
    return stacks, event


def main(args):
    from ..profiles import flamegraph, folded
    read = read_stacks(args.input, "flamegraph")
    if read is None:
        return 2
    stacks, event = read
    if not stacks:
        print(f"perfkit: profile flamegraph: {args.input}: no samples", file=sys.stderr)
        return 1
    total = folded.total(stacks)
    subtitle = f"{total:g} samples" + (f" of {event}" if event else "")
    try:
        if args.folded_out:
            with open(args.folded_out, "w") as out:
                folded.write(stacks, out)
        args.output.write_text(flamegraph.render(stacks, args.title, subtitle))
    except OSError as e:
        print(f"perfkit: profile flamegraph: cannot write {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    return 0
