"""What Windows' ETW tools wrote, read into perfkit metrics: the text that
`xperf -i trace.etl -symbols -a dumper -stacktimeshifting` prints for a WPR
CPU recording (SampledProfile and Stack events), and the table of
`xperf -i heap.etl -a heap -totals -pid PID` for a heap recording.

Nothing here needs Windows: it parses text. The dumper format is the one
xperf prints (a header naming each event's columns, then one line per
event) as published scripts read it; the heap table's layout is documented
only as its list of columns, so that parser is the least certain part.
Neither was captured on Windows by this project (profiling/README.md)."""
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from ..runfile import metric
from .sampled_stacks import self_table

_PROCESS = re.compile(r"^(.*?)\s*\(\s*(\d+)\s*\)$")   # "name.exe (1234)", "Idle (   0)"


def _fields(line):
    return [f.strip() for f in line.split(",")]


@dataclass
class CpuProfile:
    samples: int = 0                       # SampledProfile events of the target
    stacks: Counter = field(default_factory=Counter)   # root-first frames -> samples
    processes: Counter = field(default_factory=Counter)  # "name (pid)" -> samples, every process
    without_stack: int = 0
    events_lost: int = None
    buffers_lost: int = None
    trace_length: str = ""
    pid: int = None
    name: str = None


def _trace_line(line, prof):
    """`OS Version: ..., Events Lost: 0, Buffers lost: 0, ..., Trace Length: 2 sec, ...`"""
    for part in line.split(","):
        key, _, value = part.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "events lost" and value.isdigit():
            prof.events_lost = int(value)
        elif key == "buffers lost" and value.isdigit():
            prof.buffers_lost = int(value)
        elif key == "trace length":
            prof.trace_length = value


def parse_dumper(lines, pid=None, name=None, max_pending=100000):
    """lines: the dumper's text (any iterable of lines; the file can be large,
    nothing beyond the open stacks is kept). Counts the SampledProfile events
    of pid (or of every process called name, or of every process but Idle)
    and folds each one's call stack: a run of Stack lines (frame 1 the leaf)
    belongs to the sample with the same TimeStamp and ThreadID, which
    -stacktimeshifting lines up. Frames may contain commas
    (`f<int,int>`): a Stack line's frame is everything after its 5th comma."""
    prof = CpuProfile(pid=pid, name=name)
    pending = OrderedDict()     # (timestamp, tid) -> leaf frame of a sample still without stack
    stack_key, frames = None, []
    in_header = False

    def close_stack():
        nonlocal stack_key, frames
        if stack_key is not None and stack_key in pending:
            pending.pop(stack_key)
            prof.stacks[tuple(reversed(frames))] += 1
        stack_key, frames = None, []

    for raw in lines:
        line = raw.strip()
        if line == "BeginHeader":
            in_header = True
            continue
        if line == "EndHeader":
            in_header = False
            continue
        if in_header or not line:
            continue
        kind = line.split(",", 1)[0].strip()
        if kind == "Stack":
            f = _fields(line)
            if len(f) < 6 or not f[1].isdigit() or not f[2].isdigit():
                continue
            key = (int(f[1]), int(f[2]))
            if key != stack_key or f[3] == "1":
                close_stack()
                stack_key = key
            frames.append(",".join(f[5:]).strip())
            continue
        close_stack()
        if kind == "SampledProfile":
            f = _fields(line)
            if len(f) < 8 or not f[1].isdigit() or not f[3].isdigit():
                continue
            m = _PROCESS.match(f[2])
            if not m:
                continue
            pname, ppid = m.group(1), int(m.group(2))
            prof.processes[f"{pname} ({ppid})"] += 1
            if ppid == 0:      # Idle: no process was running
                continue
            if pid is not None and ppid != pid:
                continue
            if pid is None and name is not None and pname.lower() != name.lower():
                continue
            prof.samples += 1
            # Image!Function is the 8th field; Count and type end the line.
            pending[(int(f[1]), int(f[3]))] = ",".join(f[7:-2] if len(f) > 9 else f[7:8]) or "[unknown]"
            while len(pending) > max_pending:   # a sample whose stack never came
                _, leaf = pending.popitem(last=False)
                _no_stack(prof, leaf)
        elif line.startswith("OS Version:"):
            _trace_line(line, prof)
    close_stack()
    for leaf in pending.values():
        _no_stack(prof, leaf)
    return prof


def _no_stack(prof, leaf):
    prof.without_stack += 1
    prof.stacks[("[no stack]", leaf)] += 1


# -- heap ------------------------------------------------------------------------------

# The columns `xperf -a heap` documents, in its order (sizes in KB).
HEAP_COLUMNS = ("allocs", "alloc_kb", "outstanding", "outstanding_kb", "reallocs",
                "extents_kb", "outstanding_extents_kb")
_NUM = r"([0-9][0-9,]*(?:\.[0-9]+)?)"
_HEAP_ROW = re.compile(r"^\s*" + r"\s+".join([_NUM] * 7) + r"\s+(0x[0-9a-fA-F]+)\s*$")
_TOTAL_ROW = re.compile(r"^\s*totals?\b[\s:]*" + r"\s+".join([_NUM] * 7) + r"\s*$", re.I)


def _number(text):
    return float(text.replace(",", ""))


def parse_heap_totals(text):
    """The table of `xperf -a heap -totals`: a row per heap (its seven
    figures, then the heap handle) and, when printed, a Total row. Returns
    {column: value} for the whole process (the Total row, else the sum of
    the heaps) and the number of heaps."""
    heaps, total = [], None
    for line in text.splitlines():
        m = _TOTAL_ROW.match(line)
        if m:
            total = dict(zip(HEAP_COLUMNS, map(_number, m.groups())))
            continue
        m = _HEAP_ROW.match(line)
        if m:
            heaps.append(dict(zip(HEAP_COLUMNS, map(_number, m.groups()[:7]))))
    if total is None and not heaps:
        raise ValueError("no heap table: expected rows of 7 figures and a heap handle "
                         "(Alloc, Alloc KB, Out, Out KB, Realloc, Extents KB, Out Ext KB, Handle)")
    if total is None:
        total = {c: sum(h[c] for h in heaps) for c in HEAP_COLUMNS}
    return total, len(heaps)


# -- metrics and summaries ---------------------------------------------------------------

def _name(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def cpu_metrics(prof, prefix=None):
    return [metric(_name(prefix, "cpu.samples"), "count", "lower", [prof.samples])]


def heap_metrics(total, prefix=None):
    return [metric(_name(prefix, "heap.allocations"), "count", "lower", [total["allocs"]]),
            metric(_name(prefix, "heap.outstanding_bytes"), "bytes", "lower",
                   [round(total["outstanding_kb"] * 1024)])]


def cpu_summary(prof, top=10):
    who = (f"pid {prof.pid}" if prof.pid is not None else
           f"{prof.name}" if prof.name else "every process but Idle")
    lines = ["# CPU (ETW, WPR)", "",
             f"{prof.samples} samples of {who}"
             + (f" in {prof.trace_length}" if prof.trace_length else "")
             + f"; {prof.without_stack} without a stack."]
    if prof.events_lost or prof.buffers_lost:
        lines.append(f"ETW lost {prof.events_lost} events and {prof.buffers_lost} buffers: "
                     f"the counts are low.")
    others = sum(n for p, n in prof.processes.items() if not p.startswith("Idle ")) - prof.samples
    if others > 0:
        lines.append(f"{others} samples of other processes were left out.")
    lines += ["", *self_table(prof.stacks, prof.samples, top)]
    return "\n".join(lines) + "\n"


def heap_summary(total, heaps, pid=None):
    who = f"pid {pid}" if pid is not None else "the traced process"
    return "\n".join([
        "# Heap (ETW, WPR)", "",
        f"{who}: {total['allocs']:.0f} heap allocations ({total['alloc_kb']:.0f} KB), "
        f"{total['reallocs']:.0f} reallocations, over {heaps or '?'} heaps; still allocated "
        f"when the trace stopped: {total['outstanding']:.0f} blocks, "
        f"{total['outstanding_kb']:.0f} KB."]) + "\n"
