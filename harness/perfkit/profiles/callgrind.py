"""Callgrind's output files read into what a metric needs: per part (one dump)
its total of each event, and per function how often it was called, its
inclusive cost through those calls and its own (self) cost.

The format (valgrind's "Callgrind Format Specification"): header lines
`key: value` (`events:`, `positions:`, `summary:`/`totals:`, `part:`,
`desc: Trigger: ...`), then position specifications (`ob=`, `fl=`, `fi=`,
`fe=`, `fn=`, `cob=`, `cfi=`/`cfl=`, `cfn=`) and cost lines: subpositions
(one per `positions:` entry, absolute, `+N`/`-N` relative or `*` the same)
followed by one count per event, trailing zeros left out. `calls=N TARGET`
says the next cost line is the inclusive cost of N calls to the function
named by the last `cfn=`. Names may be compressed: `fn=(7) name` defines id
7 and a later `fn=(7)` or `cfn=(7)` means the same name; fn and cfn share one
table, the file specifications another, objects a third. One file may hold
several parts (--combine-dumps=yes): each begins with its own header, and the
compressed names carry over.
"""
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = re.compile(r"^([a-z]+):\s?(.*)$")
_SPEC = re.compile(r"^(ob|fl|fi|fe|fn|cob|cfi|cfl|cfn)=\s*(?:\((\d+)\)\s*)?(.*)$")
_TABLE = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl", "cfl": "fl",
          "fn": "fn", "cfn": "fn"}
# --separate-recs appends 'N for the Nth recursion level: the same function.
_RECURSION = re.compile(r"'\d+$")


class CallgrindFormatError(ValueError):
    """A file that is not callgrind's output, or is cut short: says where."""


@dataclass
class Part:
    """One dump: a whole run, or what was collected since the last dump."""
    path: str
    number: int = 1
    pid: int | None = None
    trigger: str = ""
    events: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)    # event -> count (summary: / totals:)
    calls: dict = field(default_factory=dict)     # function -> calls made to it
    inclusive: dict = field(default_factory=dict)  # function -> Ir through those calls
    self_cost: dict = field(default_factory=dict)  # function -> Ir in its own code

    def total(self, event="Ir"):
        return self.totals.get(event, 0)


def normalise(name):
    """A function's name without the recursion level callgrind appends."""
    return _RECURSION.sub("", name)


def read(path):
    """Every part in one callgrind output file, in order."""
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as e:
        raise CallgrindFormatError(f"{path}: {e.strerror}") from None
    if not lines or not (lines[0].startswith("# callgrind format") or
                         any(line.startswith("events:") for line in lines[:40])):
        raise CallgrindFormatError(f"{path}: not a callgrind output file (no '# callgrind format' "
                                   "or 'events:' header)")
    names = {"ob": {}, "fl": {}, "fn": {}}
    parts, part = [], None
    fn = cfn = None
    npos = 1
    pending_calls = None  # the count of a calls= line, until its cost line
    ir = 0

    def new_part():
        nonlocal part, fn, cfn, pending_calls
        # A combined file names its process once, in the first part's header.
        part = Part(path=str(path), pid=part.pid if part is not None else None)
        parts.append(part)
        fn = cfn = pending_calls = None

    for lineno, line in enumerate(lines, 1):
        if not line or line.startswith("#"):
            if line.startswith("# callgrind format") and part is not None and part.events:
                new_part()
            continue
        if part is None:
            new_part()
        c = line[0]
        if c.isdigit() or c in "+-*":
            if not part.events:
                raise CallgrindFormatError(f"{path}:{lineno}: a cost line before 'events:'")
            fields = line.split()
            counts = fields[npos:npos + len(part.events)]
            try:
                cost = int(counts[ir]) if ir < len(counts) else 0
            except ValueError:
                raise CallgrindFormatError(f"{path}:{lineno}: not a cost line: {line!r}") from None
            if pending_calls is not None:
                target = cfn if cfn is not None else fn
                part.calls[target] = part.calls.get(target, 0) + pending_calls
                part.inclusive[target] = part.inclusive.get(target, 0) + cost
                pending_calls = None
            elif fn is not None:
                part.self_cost[fn] = part.self_cost.get(fn, 0) + cost
            continue
        if pending_calls is not None:
            raise CallgrindFormatError(f"{path}:{lineno}: 'calls=' not followed by its cost line")
        m = _SPEC.match(line)
        if m:
            spec, ident, name = m.group(1), m.group(2), m.group(3).strip()
            table = names[_TABLE[spec]]
            if ident is not None:
                if name:
                    table[ident] = name
                elif ident in table:
                    name = table[ident]
                else:
                    raise CallgrindFormatError(f"{path}:{lineno}: '{spec}=({ident})' refers to "
                                               "a name never defined")
            if spec == "fn":
                fn, cfn = normalise(name), None
            elif spec == "cfn":
                cfn = normalise(name)
            continue
        if line.startswith("calls="):
            try:
                pending_calls = int(line[6:].split()[0])
            except (ValueError, IndexError):
                raise CallgrindFormatError(f"{path}:{lineno}: bad calls line: {line!r}") from None
            continue
        if line.startswith(("jump=", "jcnd=")):
            pending_calls = None  # followed by a position line, not a cost we count
            continue
        m = _HEADER.match(line)
        if not m:
            raise CallgrindFormatError(f"{path}:{lineno}: cannot read {line!r}")
        key, value = m.group(1), m.group(2).strip()
        if key == "version" and part.events:
            new_part()  # a second header in one file: the next part
        if key == "part":
            if part.events and part.number != int(value):
                new_part()
            part.number = int(value)
        elif key == "pid":
            part.pid = int(value)
        elif key == "desc" and value.startswith("Trigger:"):
            part.trigger = value[len("Trigger:"):].strip()
        elif key == "positions":
            npos = len(value.split())
        elif key == "events":
            part.events = value.split()
            ir = part.events.index("Ir") if "Ir" in part.events else 0
        elif key in ("summary", "totals"):
            part.totals = dict(zip(part.events, (int(x) for x in value.split())))
    if not parts or not parts[-1].events:
        raise CallgrindFormatError(f"{path}: no 'events:' line: not callgrind's output")
    for p in parts:
        if not p.totals:
            # Callgrind always writes them; other writers of the format may
            # not, and then the self costs add up to the same.
            p.totals = {p.events[ir if ir < len(p.events) else 0]: sum(p.self_cost.values())}
    return parts


def pattern_regex(pattern):
    """Callgrind's function patterns: * any run of characters, ? one, the rest
    literal ('[' included: C++ names carry [abi:cxx11]), matching the whole name."""
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                              for ch in pattern) + r"\Z", re.S)


def patterns_for(function):
    """The patterns a FUNCTION given on the command line stands for. Callgrind
    names C++ functions in full (`procmond::LinuxCollector::collect()`): a
    name with * or ? or '(' is taken as it is; a bare name also matches with
    its parameters and under any namespace or class, so that `work` finds the
    C function `work` and `LinuxCollector::collect` the method above."""
    if any(ch in function for ch in "*?("):
        return [function]
    return [function, f"{function}(*", f"*::{function}(*"]


def matcher(function):
    regexes = [pattern_regex(p) for p in patterns_for(function)]
    return lambda name: any(r.match(name) for r in regexes)


def calls_of(part, function):
    """How often functions matching FUNCTION were called in this part."""
    match = matcher(function)
    return sum(n for name, n in part.calls.items() if match(name))


def matching_names(parts, function):
    match = matcher(function)
    return sorted({name for p in parts for name in (*p.calls, *p.self_cost) if match(name)})


@dataclass
class Figure:
    """One process run's figure: instructions per call of a function (or the
    total, with no function), with the parts that gave it."""
    value: float
    total: int          # Ir in the parts used
    calls: int          # calls of the function in those parts (0: a total)
    per_part: list      # each used part's own figure
    parts_used: int
    parts_seen: int


def inclusive_of(part, function):
    """Ir spent in calls of functions matching FUNCTION in this part, read
    from their callers' call cost lines (a call still running at the dump is
    counted with what it had spent)."""
    match = matcher(function)
    return sum(ir for name, ir in part.inclusive.items() if match(name))


def figure(parts, per_call=None, less=(), inclusive=False, event="Ir"):
    """The figure of one process run. With per_call: each part with calls of
    it gives its count over those calls, and the figure is their median (one
    part: its own), so warm-up parts (a benchmark's first, short run; a first
    call's one-time costs) do not move it. The count is the part's total
    less the inclusive cost of the `less` functions' calls (give patterns
    that match no callee of one another: each is subtracted) or, with
    `inclusive`, per_call's own inclusive cost (no toggle needed), pooled
    over all its calls in the run. Without per_call: the total of every
    part, less the `less` functions' cost."""
    def count(p):
        if inclusive:
            return inclusive_of(p, per_call)
        return p.total(event) - sum(inclusive_of(p, f) for f in less)

    if per_call is None:
        per_part = [count(p) for p in parts]
        total = sum(per_part)
        return Figure(float(total), total, 0, [float(x) for x in per_part], len(parts),
                      len(parts))
    used = [(count(p), calls_of(p, per_call)) for p in parts]
    used = [(ir, n) for ir, n in used if n > 0 and ir > 0]
    if not used:
        return None
    per_part = [ir / n for ir, n in used]
    total, calls = sum(ir for ir, _ in used), sum(n for _, n in used)
    # A function's own cost is pooled over every call in the run: the parts
    # (dumps of another function) hold few of its calls, or many.
    value = total / calls if inclusive else statistics.median(per_part)
    return Figure(float(value), total, calls, per_part, len(used), len(parts))


def top(parts, key="inclusive", n=10):
    """The n functions with the most Ir (inclusive through calls, or self),
    summed over parts."""
    sums = {}
    for p in parts:
        for name, cost in getattr(p, key).items():
            sums[name] = sums.get(name, 0) + cost
    return sorted(sums.items(), key=lambda kv: -kv[1])[:n]


def nested(parts, function):
    """Calls from a function matching FUNCTION to another matching it: under
    --toggle-collect the second entry turns collection off again, so the
    counts inside it are lost. Returns such callers' names."""
    # The parser keeps no caller per call; read again only when asked.
    match = matcher(function)
    found = set()
    for path in sorted({p.path for p in parts}):
        fn = None
        names = {}
        for line in Path(path).read_text(errors="replace").splitlines():
            m = _SPEC.match(line)
            if not m or _TABLE[m.group(1)] != "fn":
                continue
            ident, name = m.group(2), m.group(3).strip()
            if ident is not None:
                name = names.setdefault(ident, name) if name else names.get(ident, "")
            name = normalise(name)
            if m.group(1) == "fn":
                fn = name
            elif fn is not None and match(fn) and match(name):
                found.add(fn)
    return sorted(found)
