"""What macOS's profilers wrote, read into perfkit metrics: `xctrace export`
XML (the table of contents, the Time Profiler's `time-profile` table, the
Allocations track's `Statistics` detail) and the text report of `leaks`.

Nothing here runs on macOS or needs it: it parses text. The formats follow
Apple's xctrace(1) and leaks(1) and exports that others published; this
project has not captured one on a Mac (profiling/README.md says so).

xctrace's XML writes each value once with an `id` and later as `<tag
ref="id"/>`, anywhere in the document: every element is resolved through one
id map before it is read."""
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

from ..runfile import metric
from .sampled_stacks import self_table


def _xml(text):
    try:
        return ET.fromstring(text)
    except ET.ParseError as e:
        raise ValueError(f"not XML: {e}") from None


def _ids(root):
    return {el.get("id"): el for el in root.iter() if el.get("id") is not None}


def _resolve(el, ids):
    """The element a `<tag ref="N"/>` stands for (itself when it has no ref)."""
    seen = 0
    while el is not None and el.get("ref") is not None:
        ref = el.get("ref")
        if ref not in ids:
            raise ValueError(f"<{el.tag} ref=\"{ref}\"/> refers to no element")
        el = ids[ref]
        seen += 1
        if seen > 100:
            raise ValueError(f"ref {ref} goes round in a circle")
    return el


def _int(text):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


# -- the table of contents ---------------------------------------------------

@dataclass
class Toc:
    template: str = ""
    duration_s: float = None
    end_reason: str = ""
    target_name: str = ""
    target_pid: int = None
    target_type: str = ""        # "launched" or "attached"
    exit_status: int = None
    schemas: list = field(default_factory=list)
    details: list = field(default_factory=list)  # (track name, detail name)


def parse_toc(text):
    """`xctrace export --input X.trace --toc`: the first run's template,
    duration, target process and the tables and track details it holds."""
    root = _xml(text)
    run = root.find("run")
    if root.tag != "trace-toc" or run is None:
        raise ValueError("not an xctrace table of contents: expected <trace-toc><run>")
    toc = Toc()
    summary = run.find("info/summary")
    if summary is not None:
        toc.template = (summary.findtext("template-name") or "").strip()
        toc.end_reason = (summary.findtext("end-reason") or "").strip()
        try:
            toc.duration_s = float(summary.findtext("duration"))
        except (TypeError, ValueError):
            toc.duration_s = None
    proc = run.find("info/target/process")
    if proc is not None:
        toc.target_name = proc.get("name", "")
        toc.target_pid = _int(proc.get("pid"))
        toc.target_type = proc.get("type", "")
        toc.exit_status = _int(proc.get("return-exit-status"))
    toc.schemas = [t.get("schema") for t in run.iterfind("data/table") if t.get("schema")]
    toc.details = [(track.get("name"), d.get("name"))
                   for track in run.iterfind("tracks/track")
                   for d in track.iterfind("details/detail")]
    return toc


# -- Time Profiler -------------------------------------------------------------

@dataclass
class TimeProfile:
    samples: int = 0                 # rows of the target (or of every process)
    weight_ns: int = 0               # their summed weight: sampled CPU time
    stacks: Counter = field(default_factory=Counter)   # root-first frames -> samples
    processes: Counter = field(default_factory=Counter)  # "name (pid)" -> samples, all rows
    without_stack: int = 0
    pid: int = None                  # the process counted; None: every process


def _frame_label(frame, ids):
    name = (frame.get("name") or "").strip()
    addr = frame.get("addr") or ""
    if name and not name.startswith("0x"):
        return name
    binary = _resolve(frame.find("binary"), ids)
    where = binary.get("name") if binary is not None else ""
    return f"{where}!{name or addr}" if where else (name or addr or "[unknown]")


def _process_of(row, ids):
    """(pid, label) of a sample row: its own process column, or its thread's."""
    for child in row:
        el = _resolve(child, ids)
        proc = None
        if el.tag == "process":
            proc = el
        elif el.tag == "thread":
            proc = _resolve(el.find("process"), ids)
        if proc is not None:
            pid_el = _resolve(proc.find("pid"), ids)
            pid = _int(pid_el.text) if pid_el is not None else None
            return pid, proc.get("fmt") or f"pid {pid}"
    return None, "[unknown process]"


def _backtrace_of(row, ids):
    for child in row:
        el = _resolve(child, ids)
        if el.tag == "tagged-backtrace":
            el = _resolve(el.find("backtrace"), ids)
        if el is not None and el.tag == "backtrace":
            return el
    return None


def parse_time_profile(text, pid=None):
    """`xctrace export --xpath '.../table[@schema="time-profile"]'`: one row
    per sample. pid: count only that process's rows (the others are still
    listed in `processes`). A backtrace lists the leaf frame first."""
    root = _xml(text)
    schema = root.find("node/schema")
    if schema is None or schema.get("name") not in ("time-profile", "cpu-profile"):
        found = schema.get("name") if schema is not None else "none"
        raise ValueError(f"expected the time-profile table, found schema {found}")
    ids = _ids(root)
    prof = TimeProfile(pid=pid)
    for row in root.iterfind("node/row"):
        row_pid, label = _process_of(row, ids)
        prof.processes[label] += 1
        if pid is not None and row_pid != pid:
            continue
        prof.samples += 1
        for child in row:
            el = _resolve(child, ids)
            if el.tag == "weight" and _int(el.text) is not None:  # ns (cpu-profile's are cycles)
                prof.weight_ns += _int(el.text)
        bt = _backtrace_of(row, ids)
        frames = [] if bt is None else [_frame_label(_resolve(f, ids), ids)
                                        for f in bt.iterfind("frame")]
        if not frames:
            prof.without_stack += 1
            frames = ["[no backtrace]"]
        prof.stacks[tuple(reversed(frames))] += 1
    return prof


# -- Allocations -----------------------------------------------------------------

_STAT_FIELDS = ("persistent-bytes", "count-persistent", "transient-bytes", "count-transient",
                "total-bytes", "count-total", "count-events")


def parse_allocation_statistics(text):
    """The Allocations track's `Statistics` detail (`--xpath
    '/trace-toc/run[@number="1"]/tracks/track[@name="Allocations"]/details/detail[@name="Statistics"]'`):
    one row per category, its figures as attributes. Returns {category:
    {field: int}}; `All Heap Allocations` is malloc's heap."""
    root = _xml(text)
    stats = {}
    for row in root.iter("row"):
        category = row.get("category")
        if category is None:
            continue
        stats[category] = {f: _int(row.get(f)) for f in _STAT_FIELDS if _int(row.get(f)) is not None}
    if "All Heap Allocations" not in stats:
        raise ValueError("no 'All Heap Allocations' row: not the Allocations Statistics detail")
    return stats


def statistics_inconsistencies(stats):
    """Rows whose persistent + transient differ from their total: the export
    describes itself wrongly (worth saying, not worth failing on)."""
    bad = []
    for cat, s in stats.items():
        for p, t, total in (("persistent-bytes", "transient-bytes", "total-bytes"),
                            ("count-persistent", "count-transient", "count-total")):
            if p in s and t in s and total in s and s[p] + s[t] != s[total]:
                bad.append(f"{cat}: {p} + {t} = {s[p] + s[t]}, {total} = {s[total]}")
    return bad


# -- leaks(1) ----------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "k": 1024, "kb": 1024, "kib": 1024,
          "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
          "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3}


def parse_size(text):
    """leaks' sizes: `16 bytes`, `1.00K`, `17 KB`, `4.0G` (binary multiples,
    as vmmap and leaks print them); None when it is not a size."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text or "")
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return round(float(m.group(1)) * _UNITS[m.group(2).lower()])


@dataclass
class LeaksReport:
    pid: int = None
    process: str = ""
    leaks: int = None
    leaked_bytes: int = None
    nodes: int = None
    malloced_bytes: int = None
    footprint_bytes: int = None
    peak_footprint_bytes: int = None
    roots: list = field(default_factory=list)   # (count, bytes, kind, what), biggest first


_LEAKS = re.compile(r"^Process (\d+): (\d+) leaks? for (\d+) total leaked bytes?", re.M)
_NODES = re.compile(r"^Process (\d+): (\d+) nodes? malloced for (.+?)\s*$", re.M)
_ROOT = re.compile(r"^\s*(\d+) \(([^)]*)\) (ROOT LEAK|ROOT CYCLE): (.*?)\s*$", re.M)
_HEAD = re.compile(r"^Process:\s+(.*?) \[(\d+)\]\s*$", re.M)


def parse_leaks(text):
    """`leaks PID` or `leaks --atExit -- CMD`: its summary line (`Process N:
    K leaks for B total leaked bytes.`), the heap it looked at (`N nodes
    malloced for S`), the footprint header and each root leak or cycle."""
    rep = LeaksReport()
    m = _LEAKS.search(text)
    if not m:
        raise ValueError("no 'Process N: K leaks for B total leaked bytes.' line: "
                         "not a leaks report (or leaks failed before it)")
    rep.pid, rep.leaks, rep.leaked_bytes = int(m.group(1)), int(m.group(2)), int(m.group(3))
    head = _HEAD.search(text)
    if head:
        rep.process = head.group(1)
    nodes = _NODES.search(text)
    if nodes:
        rep.nodes, rep.malloced_bytes = int(nodes.group(2)), parse_size(nodes.group(3))
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Physical footprint":
            rep.footprint_bytes = parse_size(value)
        elif key.strip() == "Physical footprint (peak)":
            rep.peak_footprint_bytes = parse_size(value)
    # One line per root: the same site, leaked N times, is one row here.
    roots = {}
    for m in _ROOT.finditer(text):
        what = re.sub(r" 0x[0-9a-fA-F]+>", ">", m.group(4))   # the address differs every run
        what = re.sub(r"\s*\[\d+\]$", "", what)
        count, size = roots.get((m.group(3), what), (0, 0))
        roots[(m.group(3), what)] = (count + int(m.group(1)), size + (parse_size(m.group(2)) or 0))
    rep.roots = sorted(((c, b, kind, what) for (kind, what), (c, b) in roots.items()),
                       key=lambda r: -r[1])
    return rep


# -- metrics and summaries --------------------------------------------------------

def _name(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def time_metrics(prof, prefix=None):
    return [metric(_name(prefix, "cpu.samples"), "count", "lower", [prof.samples])]


def alloc_metrics(stats, prefix=None):
    heap = stats["All Heap Allocations"]
    out = []
    if "count-total" in heap:
        out.append(metric(_name(prefix, "heap.allocations"), "count", "lower", [heap["count-total"]]))
    if "persistent-bytes" in heap:
        out.append(metric(_name(prefix, "heap.persistent_bytes"), "bytes", "lower",
                          [heap["persistent-bytes"]]))
    if not out:
        raise ValueError("'All Heap Allocations' has neither count-total nor persistent-bytes")
    return out


def leaks_metrics(rep, prefix=None):
    out = [metric(_name(prefix, "heap.leaked_bytes"), "bytes", "lower", [rep.leaked_bytes]),
           metric(_name(prefix, "heap.leaked_blocks"), "count", "lower", [rep.leaks])]
    if rep.peak_footprint_bytes is not None:
        out.append(metric(_name(prefix, "heap.peak_footprint_bytes"), "bytes", "lower",
                          [rep.peak_footprint_bytes]))
    return out


def _bytes(n):
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def time_summary(prof, toc=None, top=10):
    who = f"pid {prof.pid}" if prof.pid is not None else "every process recorded"
    lines = ["# Time Profiler (xctrace)", ""]
    if toc is not None and toc.target_name:
        lines.append(f"Target: {toc.target_name} ({toc.target_type or 'target'}, pid "
                     f"{toc.target_pid}), recorded {toc.duration_s or '?'} s, "
                     f"ended: {toc.end_reason or '?'}.")
    lines.append(f"{prof.samples} samples of {who}, {prof.weight_ns / 1e6:.1f} ms of sampled CPU "
                 f"time; {prof.without_stack} without a backtrace.")
    others = sum(prof.processes.values()) - prof.samples
    if others > 0:
        lines.append(f"{others} samples of other processes were left out.")
    lines += ["", *self_table(prof.stacks, prof.samples, top)]
    return "\n".join(lines) + "\n"


def alloc_summary(stats, toc=None, top=10):
    heap = stats["All Heap Allocations"]
    lines = ["# Allocations (xctrace)", ""]
    if toc is not None and toc.target_name:
        lines.append(f"Target: {toc.target_name} (pid {toc.target_pid}), recorded "
                     f"{toc.duration_s or '?'} s.")
    lines.append(f"Heap: {heap.get('count-total', '?')} allocations, "
                 f"{_bytes(heap.get('total-bytes'))} in all; still allocated at the end: "
                 f"{heap.get('count-persistent', '?')} blocks, "
                 f"{_bytes(heap.get('persistent-bytes'))}.")
    for problem in statistics_inconsistencies(stats):
        lines.append(f"Note: the export does not add up: {problem}.")
    rest = [(c, s) for c, s in stats.items() if not c.startswith("All ")]
    rest.sort(key=lambda cs: -cs[1].get("persistent-bytes", 0))
    if rest:
        lines += ["", "| category | persistent | blocks | total allocated |", "|---|---:|---:|---:|"]
        for cat, s in rest[:top]:
            lines.append(f"| {cat} | {_bytes(s.get('persistent-bytes'))} | "
                         f"{s.get('count-persistent', '?')} | {_bytes(s.get('total-bytes'))} |")
    return "\n".join(lines) + "\n"


def leaks_summary(rep, top=10):
    lines = ["# leaks", "",
             f"{rep.process or 'Process'} (pid {rep.pid}): {rep.leaks} leaked blocks, "
             f"{_bytes(rep.leaked_bytes)} unreachable"
             + (f", of {rep.nodes} blocks ({_bytes(rep.malloced_bytes)}) in the heap"
                if rep.nodes is not None else "") + "."]
    if rep.peak_footprint_bytes is not None:
        lines.append(f"Physical footprint {_bytes(rep.footprint_bytes)}, peak "
                     f"{_bytes(rep.peak_footprint_bytes)}.")
    if rep.roots:
        lines += ["", "| blocks | bytes | what |", "|---:|---:|---|"]
        for count, size, kind, what in rep.roots[:top]:
            lines.append(f"| {count} | {_bytes(size)} | {kind}: `{what}` |")
    return "\n".join(lines) + "\n"
