"""Callgrind runs (a directory per process run, as profiling/callgrind.sh
leaves them) turned into perfkit metrics `instructions.<what>` (count, lower
is better, portable: an instruction count holds on any machine running the
same binary), a summary for people and the list of files a report links.

A run directory holds callgrind.out.PID (and .PID.N, one per dump) and, from
the wrapper, `pid`: the profiled process's own id, so that the dumps of
children it forked (callgrind follows a fork without exec) stay out.
"""
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from .. import runfile
from . import callgrind

_OUT = re.compile(r"^callgrind\.out\.(\d+)(?:\.(\d+))?$")
# What callgrind cannot see, said wherever its counts are shown.
USER_SPACE_ONLY = ("Callgrind counts the instructions the program runs in user space only: the "
                   "kernel's work for its system calls (formatting /proc text, copying it out, "
                   "writing pages) is not in these counts.")


class NoFigure(ValueError):
    """A run that gave no figure (nothing collected, a function never called): why."""


@dataclass
class Wanted:
    """A metric to make: instructions.NAME, per call of FUNCTION (None: the
    total), of everything counted less the `less` functions' inclusive cost,
    or (inclusive) of FUNCTION's own inclusive cost."""
    name: str
    function: str | None
    less: tuple = ()
    inclusive: bool = False

    def describe(self):
        if self.function is None:
            what = "total"
        elif self.inclusive:
            what = f"inclusive, per call of `{self.function}`, over all calls"
        else:
            what = f"per call of `{self.function}`"
        return what + "".join(f", less `{f}`" for f in self.less)


def run_dirs(out):
    """The process runs' directories under OUT, in order (run-1, run-2, ...)."""
    dirs = [d for d in Path(out).iterdir() if d.is_dir() and re.fullmatch(r"run-\d+", d.name)]
    return sorted(dirs, key=lambda d: int(d.name.split("-")[1]))


def run_files(run_dir):
    """The main process's output files of one run, parts in order (the
    final dump at exit, without a part number, last)."""
    found = {}
    for f in Path(run_dir).iterdir():
        m = _OUT.match(f.name)
        if m:
            found.setdefault(int(m.group(1)), []).append((int(m.group(2) or 1 << 62), f))
    if not found:
        raise NoFigure(f"{run_dir}: no callgrind.out.* file: callgrind did not write its profile")
    pid_file = Path(run_dir) / "pid"
    if pid_file.exists():
        pid = int(pid_file.read_text().split()[0])
        if pid not in found:
            raise NoFigure(f"{run_dir}: no callgrind.out.{pid}* of the profiled process "
                           f"(only of {', '.join(map(str, sorted(found)))})")
    elif len(found) == 1:
        pid = next(iter(found))
    else:
        raise NoFigure(f"{run_dir}: profiles of several processes ({', '.join(map(str, sorted(found)))}) "
                       "and no 'pid' file naming the profiled one")
    return [f for _, f in sorted(found[pid])]


def read_run(run_dir):
    parts = []
    for f in run_files(run_dir):
        parts.extend(callgrind.read(f))
    return parts


def figures(runs, wanted):
    """{name: [Figure per run]} for each Wanted, over the runs' parts."""
    out = {}
    for w in wanted:
        figs = []
        for i, parts in enumerate(runs, 1):
            fig = callgrind.figure(parts, w.function, w.less, w.inclusive)
            if fig is None or fig.total == 0:
                what = (f"no call of {w.function!r} was counted" if w.function
                        else "nothing was counted")
                raise NoFigure(f"run {i}: {what} (Ir total {sum(p.total() for p in parts)}, "
                               f"{len(parts)} parts): {_hint(parts, w.function)}")
            figs.append(fig)
        out[w.name] = figs
    return out


def _hint(parts, function):
    if function is None:
        return "did the toggled function run?"
    near = callgrind.matching_names(parts, "*" + function.split("(")[0].split("::")[-1] + "*")
    if near:
        return "names callgrind saw that look like it: " + ", ".join(near[:5])
    return ("callgrind names functions in full, as `ns::Class::method(int)`: give that, a "
            "qualified name without parameters, or a pattern with *")


def metrics(figs, prefix=None):
    """perfkit.run/1 metrics: one sample per process run."""
    out = []
    for name, fs in figs.items():
        full = f"instructions.{name}"
        if prefix:
            full = f"{prefix}.{full}"
        out.append(runfile.metric(full, "count", "lower", [f.value for f in fs], portable=True,
                                  runs=[1] * len(fs)))
    runfile.validate_metrics(out)
    return out


def spread(values):
    """(max - min) / median, the runs' disagreement as a fraction."""
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else 0.0


def _count(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def summary(figs, wanted, command, counted, runs, notes=(), prefix=None, raw=None):
    """summary.md: the figures, how far the runs agree, what was counted and
    what callgrind leaves out, the hottest functions."""
    lines = ["# callgrind: instructions per unit of work", ""]
    lines.append(f"`{command}` under callgrind, {len(runs)} process run"
                 f"{'s' * (len(runs) != 1)}; counted: {counted}.")
    lines += ["", "| metric | instructions | per run | spread | calls a run | parts used |",
              "|---|---:|---|---:|---:|---:|"]
    for w in wanted:
        fs = figs[w.name]
        name = f"{prefix}.instructions.{w.name}" if prefix else f"instructions.{w.name}"
        values = [f.value for f in fs]
        per = " · ".join(_count(v) for v in values)
        calls = "-" if w.function is None else " · ".join(f"{f.calls:,}" for f in fs)
        used = " · ".join(f"{f.parts_used}/{f.parts_seen}" for f in fs)
        what = w.describe()
        lines.append(f"| `{name}` ({what}) | {_count(statistics.median(values))} | {per} "
                     f"| {100 * spread(values):.3f} % | {calls} | {used} |")
    lines += ["", "Spread: (largest - smallest) / median over the process runs. With several "
              "parts (dumps) a run, its figure is the median of the parts' own (a warm-up part "
              "does not move it).", "", USER_SPACE_ONLY]
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    if runs:
        hot = callgrind.top(runs[0], "self_cost", 8)
        total = sum(p.total() for p in runs[0]) or 1
        if hot:
            lines += ["", "Where the instructions are (self cost, run 1, every part):", "",
                      "| function | Ir | share |", "|---|---:|---:|"]
            lines += [f"| `{_short(n)}` | {ir:,} | {100 * ir / total:.1f} % |" for n, ir in hot]
    if raw:
        lines += ["", f"Raw profile: `{raw}` (`callgrind_annotate {raw}`, or kcachegrind)."]
    return "\n".join(lines) + "\n"


def _short(name, width=90):
    name = name.replace("|", "\\|")
    return name if len(name) <= width else name[:width - 1] + "…"


def files(out, runs_dirs):
    """What a report links beside the summary: the first run's main profile."""
    entries = []
    if runs_dirs:
        first = run_files(runs_dirs[0])[0]
        entries.append({"kind": "callgrind", "path": str(first.relative_to(out)),
                        "title": "callgrind profile of run 1 (callgrind_annotate, kcachegrind)"})
    return entries
