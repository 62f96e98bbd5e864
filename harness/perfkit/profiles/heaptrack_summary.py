"""A heaptrack analysis as perfkit metrics and as summary.md: the totals, and
the top sites of each list with their stacks shortened for people."""
import re
from pathlib import PurePosixPath

from .. import units
from ..runfile import metric

# (metric, unit, what it is for people); better is lower for every one.
METRICS = [
    ("heap.peak_bytes", "bytes", "peak heap"),
    ("heap.peak_rss_bytes", "bytes", "peak RSS, heaptrack's own memory included"),
    ("heap.allocations", "count", "calls to allocation functions"),
    ("heap.temporary_allocations", "count", "temporary allocations"),
    ("heap.leaked_bytes", "bytes", "leaked"),
]

# The lists, in the order summary.md gives them: (section, title, the value
# that orders it).
LISTS = [
    ("peak", "Peak heap: who held it at the peak", "peak"),
    ("leaked", "Leaked: not freed by the end", "leaked"),
    ("allocations", "Most calls to allocation functions", "calls"),
    ("temporary", "Most temporary allocations", "temporary"),
]

MAX_FRAMES = 7  # a stack longer than this shows its first and last frames


def figures(analysis):
    """{metric name: value} of what the recording gave; a figure heaptrack did
    not print is absent (never a zero)."""
    totals, exact = analysis.report.totals, analysis.exact
    out = {}
    if "peak" in exact or "peak" in totals:
        out["heap.peak_bytes"] = exact.get("peak", totals.get("peak") and totals["peak"].bytes)
    if "peak_rss" in totals:
        out["heap.peak_rss_bytes"] = totals["peak_rss"].bytes
    if "allocations" in totals:
        out["heap.allocations"] = totals["allocations"]
    if "temporary" in totals:
        out["heap.temporary_allocations"] = totals["temporary"]
    if "leaked" in exact or "leaked" in totals:
        out["heap.leaked_bytes"] = exact.get("leaked", totals.get("leaked") and totals["leaked"].bytes)
    return out


def metrics(analysis, prefix=None):
    """perfkit.run/1 metric objects, one sample each."""
    values = figures(analysis)
    return [metric(f"{prefix}.{name}" if prefix else name, unit, "lower", [values[name]])
            for name, unit, _ in METRICS if name in values]


def how_recorded(analysis, status=None):
    """What 'leaked' and 'peak' mean for this recording, in a sentence or two."""
    status = status or {}
    runtime = analysis.report.totals.get("runtime_s")
    during = f" for {runtime:.2f} s" if runtime is not None else ""
    if analysis.attached:
        pid = f" {status['pid']}" if status.get("pid") else ""
        return (f"heaptrack was attached to the running process{pid}{during}. It sees only what "
                f"happened while attached: **leaked** means *still allocated when heaptrack "
                f"detached* (a daemon's caches and buffers, not necessarily a leak); **peak heap** "
                f"is the peak of what was allocated after the attach and not yet freed, not the "
                f"process's whole heap; frees of blocks allocated before the attach are not seen.")
    if analysis.attached is None:
        return (f"Recorded{during}; whether heaptrack started the program or was attached to it, "
                f"the file does not say (zstd missing?).")
    if status.get("stopped"):
        ran = f"ran the program{during} and stopped it with SIGTERM"
        code = status.get("exit_status")
        if code is not None and code <= 128:
            return (f"heaptrack {ran}; it exited (status {code}), so its way out was recorded "
                    f"too: **leaked** means not freed by its exit.")
        said = f"heaptrack {ran}: **leaked** means *still allocated when it was stopped*."
        if code is not None:
            # Killed by the signal's default action: no exit handlers ran,
            # so heaptrack's buffer (PIPE_BUF, 4 KB of its output) never
            # reached the file.
            said += (" It died of the signal rather than exiting, so heaptrack's last buffered "
                     "events (up to 4 KB of its output: the last second or so of a quiet "
                     "program) were lost with it: the counts and leaked may fall short.")
        return said
    return f"heaptrack started the program and recorded it to its end{during}: **leaked** means never freed."


def summary_markdown(analysis, data_name, top=5, status=None, prefix=None, more=()):
    """`more`: lines to add at the end (what became of the flame graphs)."""
    report = analysis.report
    values = figures(analysis)
    command = report.command or "?"
    version = f"heaptrack {analysis.version}" if analysis.version else "heaptrack"
    lines = [f"# heaptrack: `{_clip(command, 90)}`", "",
             f"{version}, file `{data_name}`. {how_recorded(analysis, status)}", "",
             "| figure | value | metric |", "|---|---|---|"]
    for name, unit, title in METRICS:
        full = f"{prefix}.{name}" if prefix else name
        if name not in values:
            lines.append(f"| {title} | not printed by heaptrack | `{full}` left out |")
            continue
        lines.append(f"| {title} | {_figure(name, unit, values[name], analysis)} | `{full}` |")
    lines += ["", "Sizes are decimal (1 KB = 1,000 B), as heaptrack counts them. A temporary "
              "allocation is one freed before the next allocation is made (heaptrack 1.4 matches "
              "the freed block by its size and stack, not its address, so a loop that frees an "
              "older block of the same kind right after allocating counts too)."]
    notes = list(analysis.notes)
    if report.missing:
        notes.append("heaptrack_print did not print: " + ", ".join(report.missing))
    if report.unknown:
        notes.append("lines of heaptrack_print's totals not read: "
                     + "; ".join(f"`{u}`" for u in report.unknown))
    if "suppressed" in report.totals:
        notes.append(f"leaks suppressed by heaptrack's built-in or embedded suppressions, not "
                     f"counted as leaked: {_size(report.totals['suppressed'])}")
    if notes:
        lines += [""] + [f"Note: {n}." for n in notes]
    for section, title, key in LISTS:
        sites = report.sections.get(section)
        if sites is None:
            continue
        lines += ["", f"## {title}", ""]
        if not sites:
            lines.append("None.")
            continue
        for n, site in enumerate(sites[:top], 1):
            lines += _site(n, site, key)
    lines += ["", "All of heaptrack_print's text: `heaptrack_print.txt`; the recording opens in "
              f"heaptrack_gui: `heaptrack --analyze {data_name}`."]
    for line in more:
        lines += ["", line]
    return "\n".join(lines) + "\n"


def _figure(name, unit, value, analysis):
    totals = analysis.report.totals
    if unit != "bytes":
        return units.show(value, "count")
    key = {"heap.peak_bytes": "peak", "heap.leaked_bytes": "leaked",
           "heap.peak_rss_bytes": "peak_rss"}[name]
    if key in analysis.exact:
        return f"{value:,} B" + (f" ({units.show(value, 'bytes')})" if abs(value) >= 1000 else "")
    printed = totals[key]
    return f"{_size(printed)}" + (f" (±{printed.error:,} B)" if printed.error else "")


def _size(size):
    """A heaptrack size as people read it: 67.11M -> 67.11 MB."""
    m = re.fullmatch(r"(-?[\d.]+)([KMGT]?)B?", size.text)
    return f"{m.group(1)} {m.group(2)}B" if m else size.text


def _site(n, site, key):
    """A numbered entry: its cost, where it allocates, then its stacks."""
    out = [f"{n}. {_values(site.values, key)} in {_frames(site.frames, limit=3)}"]
    for trace in site.traces[:1]:
        out.append(f"   - {_values(trace.values, key, bold=False)}: {_frames(trace.frames)}")
    more = len(site.traces) - 1
    if site.others is not None:
        value, places = site.others
        out.append(f"   - and {_show(value, key)} from {places:,} other stacks")
    elif more > 0:
        out.append(f"   - and {more} other stack{'s' * (more > 1)} (heaptrack_print.txt)")
    return out


def _show(value, key):
    if key in ("peak", "leaked"):
        return _size(value)
    if hasattr(value, "text"):  # a count heaptrack printed as a size (its "and ... from")
        return f"{value.bytes:,}" if not value.error else f"about {value.bytes:,}"
    return f"{value:,}"


def _values(values, key, bold=True):
    def calls(n):
        return f"{n:,} call{'s' * (n != 1)}"
    first = _show(values[key], key)
    b = "**" if bold else ""
    if key == "calls":
        text = f"{b}{calls(values['calls'])}{b}"
        if "peak" in values and values["peak"].bytes:
            text += f" ({_size(values['peak'])} of them held at the peak)"
        return text
    if key == "temporary":
        return f"{b}{first} temporary{b} of {calls(values['calls'])}"
    word = "held at the peak" if key == "peak" else "leaked"
    return f"{b}{first}{b} {word}, over {calls(values['calls'])}"


def _frames(frames, limit=MAX_FRAMES):
    """`fn` file:line <- `caller` file:line ..., innermost first; runs of
    standard-library frames folded, long stacks cut in the middle."""
    if not frames:
        return "(no stack)"
    shown = []
    run = []
    for i, frame in enumerate(frames):
        if i > 0 and _library(frame):
            run.append(frame)
            continue
        if run:
            shown.append(_frame(run[0]) if len(run) == 1 else f"({len(run)} library frames)")
            run = []
        shown.append(_frame(frame))
    if run:
        shown.append(_frame(run[0]) if len(run) == 1 else f"({len(run)} library frames)")
    if len(shown) > limit:
        shown = shown[:limit - 2] + [f"({len(shown) - limit + 1} more)"] + shown[-1:]
    return " ← ".join(shown)


def _library(frame):
    if frame.file:
        return frame.file.startswith("/usr/include/")
    return bool(frame.module) and frame.module.startswith(("/lib/", "/lib64/", "/usr/lib"))


def _frame(frame):
    name = f"`{_clip(_function(frame.function), 70)}`"
    if frame.file:
        return f"{name} {PurePosixPath(frame.file).name}:{frame.line}"
    if frame.module and frame.module != "??":
        return f"{name} ({PurePosixPath(frame.module).name})"
    return name


def _function(name):
    """A C++ name without its parameter list: `ns::f(int, char) const` ->
    `ns::f`; `operator()` stays."""
    name = re.sub(r"\s+const$", "", name)
    if not name.endswith(")"):
        return name
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        if name[i] == ")":
            depth += 1
        elif name[i] == "(":
            depth -= 1
            if depth == 0:
                head = name[:i]
                if head.endswith("operator") or not head:
                    return name
                return head
    return name


def _clip(text, width):
    return text if len(text) <= width else text[:width // 2 - 1] + "…" + text[-(width // 2 - 1):]
