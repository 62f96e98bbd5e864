"""heaptrack_print's text (heaptrack 1.4; 1.5 prints the same) read into
figures and allocation sites, and its flame-graph stack files read into exact
per-stack costs.

What heaptrack_print writes (src/analyze/print/heaptrack_print.cpp, v1.4.0):

    reading file "F" - please wait, this might take some time...
    Debuggee command was: CMD
    finished reading file, now analyzing data:

    MOST CALLS TO ALLOCATION FUNCTIONS        (then PEAK MEMORY CONSUMERS,
    N calls to allocation functions with S     MEMORY LEAKS, MOST TEMPORARY
      peak consumption from                    ALLOCATIONS: each a list of
    FUNCTION                                   sites)
      at FILE:LINE
      in MODULE
    N calls with S peak consumption from:     (each stack that reaches the site)
        CALLER
          at FILE:LINE
          in MODULE
      and S from N other places

    total runtime: 0.73s.
    calls to allocation functions: 1075 (1464/s)
    temporary memory allocations: 1002 (1365/s)
    peak heap memory consumption: 67.18M
    peak RSS (including heaptrack overhead): 69.19M
    total memory leaked: 1000.00K

A frame with no `in MODULE` line is a function inlined into the frame before
it. Sizes are decimal: heaptrack divides by 1000, not 1024, while the value
exceeds 1000, and prints two decimals and the unit's first letter (B, K, M,
G, T): 1000 is "1000B", 1001 "1.00K", 67,108,864 "67.11M". So a printed size
is exact up to 1000 bytes and within half a unit of its last decimal above
(0.5 % at worst); `Size.error` says how far.

A line this does not understand is a ParseError naming it, never a zero; the
one exception is an unknown `name: value` line among the totals, which is
kept in `Report.unknown` (a later heaptrack may add a figure) and said.
"""
import re
from dataclasses import dataclass, field

SECTIONS = {
    "MOST CALLS TO ALLOCATION FUNCTIONS": "allocations",
    "PEAK MEMORY CONSUMERS": "peak",
    "MEMORY LEAKS": "leaked",
    "MOST TEMPORARY ALLOCATIONS": "temporary",
}

_SIZE = r"(-?\d+B|-?\d+\.\d+[KMGT])"
_COUNT = r"(-?\d+)"
_SCALE = {"B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


class ParseError(ValueError):
    """Text that is not what heaptrack_print writes: names the line."""

    def __init__(self, number, line, why):
        super().__init__(f"heaptrack_print output, line {number}: {why}: {line!r}")
        self.number = number
        self.line = line


@dataclass(frozen=True)
class Size:
    """A size as heaptrack printed it: `bytes` is its value, and the true
    value lies within `error` bytes of it (heaptrack's rounding)."""
    bytes: int
    error: int
    text: str

    @classmethod
    def parse(cls, text):
        """'512B', '4.00K', '1.23M' (and '4.00KB', the wide form of
        --print-suppressions); None when it is none of these."""
        m = re.fullmatch(r"(-?\d+)B", text)
        if m:
            return cls(int(m.group(1)), 0, text)
        m = re.fullmatch(r"(-?\d+)\.(\d+)([KMGT])B?", text)
        if not m:
            return None
        whole, decimals, unit = m.groups()
        scale = _SCALE[unit]
        digits = len(decimals)
        # Exact integer arithmetic: "67.11" M is 6711 * 10**6 / 10**2.
        sign = -1 if whole.startswith("-") else 1
        units = int(whole.lstrip("-")) * 10**digits + int(decimals)
        value = sign * units * scale // 10**digits
        return cls(value, scale // (2 * 10**digits), text)


@dataclass
class Frame:
    """One frame of a stack, innermost first. `module` is None for a function
    inlined into the frame before it (heaptrack prints no `in` line for it)."""
    function: str
    file: str = None
    line: int = None
    module: str = None


@dataclass
class Trace:
    """One stack that reaches a site, with its share of the site's cost."""
    values: dict
    frames: list = field(default_factory=list)


@dataclass
class Site:
    """One entry of a list: where the allocation functions were called from
    (`frames`: that function and what was inlined into it), its cost
    (`values`: calls, peak, leaked, temporary, as the list prints them), and
    the stacks that reach it (`traces`, the first few; `others` says what
    the rest add up to: (value, places); heaptrack prints that value of the
    temporary list as a size, "181B" for 181, so it is a Size there)."""
    values: dict
    frames: list = field(default_factory=list)
    traces: list = field(default_factory=list)
    others: tuple = None


@dataclass
class Report:
    """All heaptrack_print said. `totals` holds what it printed of:
    runtime_s, allocations, temporary, peak (Size), peak_rss (Size),
    leaked (Size), suppressed (Size); `missing` names the ones it did not
    print; `unknown` the totals lines not understood."""
    command: str = None
    sections: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)
    unknown: list = field(default_factory=list)
    suppressions: list = field(default_factory=list)


TOTALS = ("runtime_s", "allocations", "temporary", "peak", "peak_rss", "leaked")

# name, pattern, (group -> value) for each totals line
_TOTAL_LINES = [
    ("runtime_s", "total runtime: ", r"total runtime: (\d+(?:\.\d+)?)s\.", float),
    ("allocations", "calls to allocation functions: ",
     r"calls to allocation functions: (\d+) \(\d+/s\)", int),
    ("temporary", "temporary memory allocations: ",
     r"temporary memory allocations: (\d+) \(\d+/s\)", int),
    ("peak", "peak heap memory consumption: ", rf"peak heap memory consumption: {_SIZE}", Size.parse),
    ("peak_rss", "peak RSS (including heaptrack overhead): ",
     rf"peak RSS \(including heaptrack overhead\): {_SIZE}", Size.parse),
    ("leaked", "total memory leaked: ", rf"total memory leaked: {_SIZE}", Size.parse),
    ("suppressed", "suppressed leaks: ", rf"suppressed leaks: {_SIZE}", Size.parse),
]


def _labels(section):
    """(site label, trace label) patterns of a list: the same words, the
    trace's ending in 'from:'; each gives a dict of values."""
    if section == "allocations":
        site = rf"{_COUNT} calls to allocation functions with {_SIZE} peak consumption from"
        trace = rf"{_COUNT} calls with {_SIZE} peak consumption from:"
        keys = ("calls", "peak")
    elif section == "peak":
        site = rf"{_SIZE} peak memory consumed over {_COUNT} calls from"
        trace = rf"{_SIZE} consumed over {_COUNT} calls from:"
        keys = ("peak", "calls")
    elif section == "leaked":
        site = rf"{_SIZE} leaked over {_COUNT} calls from"
        trace = rf"{_SIZE} leaked over {_COUNT} calls from:"
        keys = ("leaked", "calls")
    else:
        words = rf"{_COUNT} temporary allocations of {_COUNT} allocations in total \((\S+)%\) from"
        site, trace = words, words + ":"
        keys = ("temporary", "calls", None)
    return re.compile(site), re.compile(trace), keys


def _values(match, keys):
    out = {}
    for key, text in zip(keys, match.groups()):
        if key is None:
            continue
        out[key] = int(text) if re.fullmatch(_COUNT, text) else Size.parse(text)
    return out


_FRAME_DETAIL = re.compile(r"( *)(at|in) (.*)")
_AT = re.compile(r"(.*):(\d+)")
_OTHERS = re.compile(rf"  and ({_SIZE}|{_COUNT}) from (\d+) other places")


def parse(text):
    """heaptrack_print's stdout -> Report. Raises ParseError."""
    report = Report()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    section = None  # the list being read: its name and label patterns
    site = trace = None
    frames = None  # the frame list lines go to: the site's or its trace's
    frame_indent = None
    in_totals = in_suppressions = False
    seen_totals = set()
    i = 0
    pending = None  # the rest of a line after an unterminated "  ??"
    while i < len(lines) or pending is not None:
        if pending is not None:
            line, pending = pending, None
        else:
            line = lines[i]
            i += 1
        number = i

        if in_totals:
            if in_suppressions:
                m = re.fullmatch(r"\s*(\d+)\s+(-?[\d.]+[KMGT]?B)\s(.*)", line)
                if re.fullmatch(r"\s*matches\s+leaked pattern", line):
                    continue
                if m and Size.parse(m.group(2)):
                    report.suppressions.append((int(m.group(1)), Size.parse(m.group(2)),
                                                m.group(3)))
                    continue
                in_suppressions = False
            if line == "":
                continue
            if line == "Suppressions used:":
                in_suppressions = True
                continue
            for name, prefix, pattern, convert in _TOTAL_LINES:
                if line.startswith(prefix):
                    m = re.fullmatch(pattern, line)
                    value = convert(m.group(1)) if m else None
                    if value is None:
                        raise ParseError(number, line, f"cannot read the {name} figure")
                    if name in seen_totals:
                        raise ParseError(number, line, f"{name} given twice")
                    seen_totals.add(name)
                    report.totals[name] = value
                    break
            else:
                if re.fullmatch(r"[A-Za-z][^:]*: \S.*", line):
                    report.unknown.append(line)
                    continue
                raise ParseError(number, line, "not a line of heaptrack_print's totals")
            continue

        if line.startswith("total runtime: "):
            in_totals = True
            section = site = trace = frames = None
            pending = line  # read it again, as a totals line
            continue
        if line in SECTIONS:
            section = (SECTIONS[line], *_labels(SECTIONS[line]))
            if section[0] in report.sections:
                raise ParseError(number, line, "this list was already given")
            report.sections[section[0]] = []
            site = trace = frames = None
            continue
        if section is None:
            if _preamble(report, line):
                continue
            raise ParseError(number, line, "not a line heaptrack_print writes before its lists")

        name, site_label, trace_label, keys = section
        if line == "":
            site = trace = frames = None  # a blank line ends a site
            continue
        m = trace_label.fullmatch(line)
        if m and site is not None:
            trace = Trace(_values(m, keys))
            site.traces.append(trace)
            frames, frame_indent = trace.frames, None
            continue
        m = site_label.fullmatch(line)
        if m:
            site = Site(_values(m, keys))
            report.sections[name].append(site)
            trace = None
            frames, frame_indent = site.frames, None
            continue
        if site is None:
            raise ParseError(number, line, f"expected an entry of the {name} list")
        m = _OTHERS.fullmatch(line)
        if m:
            value = m.group(1)
            value = int(value) if re.fullmatch(_COUNT, value) else Size.parse(value)
            site.others = (value, int(m.group(4)))
            frames = None
            continue
        if line.startswith("  ??"):
            # A stack heaptrack lost: it prints "  ??" with no line end, so
            # what follows shares the line.
            if frames is None:
                raise ParseError(number, line, "a lost stack ('??') outside a site")
            frames.append(Frame("??"))
            rest = line[4:]
            if rest:
                pending = rest
            continue
        if frames is None:
            raise ParseError(number, line, "a frame after the site's last stack ended")
        detail = _FRAME_DETAIL.fullmatch(line)
        indent = len(line) - len(line.lstrip(" "))
        if detail and frames and frame_indent is not None and indent == frame_indent + 2:
            frame = frames[-1]
            if detail.group(2) == "at":
                at = _AT.fullmatch(detail.group(3))
                if not at or frame.file is not None or frame.module is not None:
                    raise ParseError(number, line, "a frame's 'at FILE:LINE' out of place")
                frame.file, frame.line = at.group(1), int(at.group(2))
            else:
                if frame.module is not None:
                    raise ParseError(number, line, "a frame's second 'in MODULE'")
                frame.module = detail.group(3)
            continue
        if frame_indent is None:
            frame_indent = indent
        if indent != frame_indent or indent % 2:
            raise ParseError(number, line,
                             f"a frame indented {indent}, its stack's frames are at {frame_indent}")
        frames.append(Frame(line[indent:]))

    report.missing = [name for name in TOTALS if name not in report.totals]
    return report


def _preamble(report, line):
    if line == "" or line == "finished reading file, now analyzing data:":
        return True
    if re.fullmatch(r'reading (diff )?file ".*" - please wait, this might take some time\.\.\.',
                    line):
        return True
    if line.startswith("Debuggee command was: "):
        report.command = line[len("Debuggee command was: "):]
        return True
    return False


def parse_stacks(text):
    """A stack file of heaptrack_print -F (`frame (file);frame;...; COST`,
    outermost frame first; `?? COST` for a lost stack) -> [(frames, cost)],
    frames innermost first, cost an int (exact: bytes or a count, as
    --flamegraph-cost-type chose)."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        stack, sep, cost = line.rpartition(" ")
        if not sep or not re.fullmatch(r"-?\d+", cost):
            raise ValueError(f"heaptrack_print stacks, line {number}: no cost at its end: {line!r}")
        frames = [f for f in stack.split(";") if f]
        out.append((frames[::-1], int(cost)))
    return out
