"""Heap in use at given moments, and per allocation site, from a heaptrack data
file: what leakcheck reads at each round's end, and the sites that grew.

heaptrack's own analysers give neither: heaptrack_print's massif output has
the heap over time but its detailed (per-site) snapshots come out empty
(heaptrack 1.4), and its leak list is what was not freed at the end, which
misses a cache that grows without bound and is freed on the way out. So this
reads the file itself: the text heaptrack_interpret writes (file format 3,
heaptrack 1.3 and later), compressed with zstd or gzip. The lines used (all
numbers hex):

    v VERSION FORMAT        heaptrack's version, the file format
    s LEN TEXT              a string (index 1, 2, ...)
    i IP MODULE [FN FILE LINE [FN FILE LINE]...]
                            an instruction pointer (index 1, 2, ...): its
                            function, then the functions inlined at it, the
                            innermost first
    t IP PARENT             a trace node (index 1, 2, ...; 0 is the root):
                            its frame and its caller's node
    a SIZE TRACE            an allocation kind (index 0, 1, ...): bytes, trace
    + KIND / - KIND         one allocation of that kind made / freed
    c MS                    the time, ms since heaptrack started in the process

Heap in use is the bytes asked of malloc (new, calloc, realloc...) and not
yet freed, as heaptrack counts them: not malloc's own overhead. An event is
stamped with the last time stamp before it (0 before the first), as
heaptrack's own tools do, and each mark sees every event stamped at or
before it. heaptrack stamps every 10 ms or so, idle or not.
"""
import contextlib
import gzip
import subprocess
from dataclasses import dataclass
from pathlib import Path

FORMATS = (3,)

# Frames of the allocator and of the standard library: a site is named by the
# first frame beyond them, the code that asked.
_LIBRARY_PREFIXES = ("std::", "__gnu_cxx::", "operator new", "void std::", "__", "malloc",
                     "calloc", "realloc", "posix_memalign", "aligned_alloc")
_LIBRARY_FILES = ("/usr/include/",)


class HeaptrackFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Frame:
    function: str
    file: str
    line: int

    def __str__(self):
        where = f"{Path(self.file).name}:{self.line}" if self.file else ""
        return f"{self.function} ({where})" if where else self.function


@dataclass
class Timeline:
    marks_ms: list          # as asked
    heap_bytes: list        # heap in use at each mark
    site_bytes: dict        # Frame (the site) -> [bytes in use at each mark]
    site_callers: dict      # Frame -> the first frame of ours that called it (or None)
    last_ms: int            # heaptrack's last time stamp
    command: str


@contextlib.contextmanager
def _lines(path):
    """The file's text, line by line: .zst through zstd -dc (Python has no
    zstd module), .gz through gzip, anything else as it is."""
    path = Path(path)
    if path.suffix != ".zst":
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", errors="replace") as f:
            yield f
        return
    try:
        proc = subprocess.Popen(["zstd", "-dc", "--", str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
    except FileNotFoundError as e:
        raise HeaptrackFormatError(f"zstd is not installed (apt-get install zstd): cannot read "
                                   f"{path}") from e
    with proc:
        try:
            yield proc.stdout
        except HeaptrackFormatError:
            # A cut or corrupt file stops zstd too: its word is the clearer.
            while proc.stdout.read(1 << 16):
                pass
            if proc.wait() != 0:
                raise HeaptrackFormatError(
                    f"{path}: zstd -dc failed: {proc.stderr.read().strip()}") from None
            raise
        err = proc.stderr.read()
    if proc.returncode != 0:
        raise HeaptrackFormatError(f"{path}: zstd -dc failed: {err.strip()}")


def last_timestamp_ms(path):
    """heaptrack's last time stamp in the file: when the process ended (or
    heaptrack stopped recording)."""
    last = None
    with _lines(path) as lines:
        for line in lines:
            if line.startswith("c "):
                last = line
    if last is None:
        raise HeaptrackFormatError(f"{path}: no time stamps: not a heaptrack data file, or empty")
    try:
        return int(last[2:], 16)
    except ValueError as e:
        raise HeaptrackFormatError(f"{path}: a time stamp does not parse: {last.strip()!r}") from e


def read(path, marks_ms):
    """The Timeline of heaptrack data file `path` at `marks_ms` (sorted, ms in
    heaptrack's clock). Raises HeaptrackFormatError for a file it cannot read."""
    marks = [float(m) for m in marks_ms]
    if marks != sorted(marks):
        raise ValueError("marks must be in time order")
    with _lines(path) as lines:
        return _parse(lines, marks, path)


def _parse(lines, marks, path):
    strings = [""]          # index 0: none
    ips = [None]            # index 0: none; else (frames innermost first)
    traces = [(0, 0)]       # index 0: the root
    kinds_size, kinds_trace = [], []
    live = []               # per allocation kind, how many are in use
    snapshots = []          # per mark: list of live counts (a copy)
    command, fmt, now = "", None, 0
    next_mark = 0
    for number, line in enumerate(lines, 1):
        tag = line[:1]
        try:
            if tag == "+":
                live[int(line[2:], 16)] += 1
            elif tag == "-":
                live[int(line[2:], 16)] -= 1
            elif tag == "c":
                now = int(line[2:], 16)
                while next_mark < len(marks) and marks[next_mark] < now:
                    snapshots.append(list(live))
                    next_mark += 1
            elif tag == "a":
                size, trace = line[2:].split()
                kinds_size.append(int(size, 16))
                kinds_trace.append(int(trace, 16))
                live.append(0)
            elif tag == "t":
                ip, parent = line[2:].split()
                traces.append((int(ip, 16), int(parent, 16)))
            elif tag == "i":
                fields = line[2:].split()
                numbers = [int(f, 16) for f in fields[2:]]
                ips.append(tuple((numbers[k], numbers[k + 1], numbers[k + 2])
                                 for k in range(0, len(numbers) - 2, 3)))
            elif tag == "s":
                text = line[2:].rstrip("\n")
                if fmt is not None and fmt >= 3:
                    text = text.split(" ", 1)[1] if " " in text else ""
                strings.append(text)
            elif tag == "v":
                fmt = int(line[2:].split()[1], 16)
                if fmt not in FORMATS:
                    raise HeaptrackFormatError(
                        f"{path}: heaptrack file format {fmt}; this reader knows "
                        f"{', '.join(map(str, FORMATS))} (heaptrack 1.3 and later)")
            elif tag == "X":
                command = line[2:].rstrip("\n")
        except HeaptrackFormatError:
            raise
        except (ValueError, IndexError) as e:
            raise HeaptrackFormatError(f"{path}: line {number} does not parse: "
                                       f"{line.strip()[:80]!r}") from e
    if fmt is None:
        raise HeaptrackFormatError(f"{path}: not a heaptrack data file (no version line)")
    while next_mark < len(marks):  # marks after the last time stamp see the end
        snapshots.append(list(live))
        next_mark += 1

    def frame(index):
        fn, file, line = index
        return Frame(strings[fn] if fn < len(strings) else "??",
                     strings[file] if file < len(strings) else "", line)

    def frames_of(trace):
        """The trace's frames, innermost first, up to the root."""
        out, seen = [], set()
        while trace and trace not in seen and trace < len(traces):
            seen.add(trace)
            ip, trace = traces[trace]
            out.extend(frame(f) for f in (ips[ip] if ip < len(ips) and ips[ip] else ()))
        return out

    site_of_trace = {}
    callers = {}

    def site(trace):
        if trace not in site_of_trace:
            frames = frames_of(trace)
            own = [f for f in frames if not _library(f)]
            chosen = own[0] if own else (frames[0] if frames else Frame("??", "", 0))
            site_of_trace[trace] = chosen
            callers.setdefault(chosen, own[1] if len(own) > 1 else None)
        return site_of_trace[trace]

    heap = []
    sites = {}
    for m, counts in enumerate(snapshots):
        total = 0
        for kind, n in enumerate(counts):
            if n:
                b = n * kinds_size[kind]
                total += b
                s = site(kinds_trace[kind])
                sites.setdefault(s, [0] * len(snapshots))[m] += b
        heap.append(total)
    return Timeline(marks_ms=marks, heap_bytes=heap, site_bytes=sites, site_callers=callers,
                    last_ms=now, command=command)


def _library(frame):
    return frame.function.startswith(_LIBRARY_PREFIXES) or frame.file.startswith(_LIBRARY_FILES)
