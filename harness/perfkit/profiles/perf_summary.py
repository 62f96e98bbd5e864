"""A perf.sh output directory made whole: from the folded stacks, the
counters (stat.csv) and the plan (plan.json), its metrics.json, files.json
and summary.md (the top functions by self and by inclusive share, the
counters, and what was left out and why)."""
from dataclasses import dataclass
from pathlib import Path

from .. import runfile
from . import folded, outdir, perf_plan, perf_stat

TOP_N = 10


@dataclass
class Run:
    """How the profile was taken, as perf.sh tells it."""
    target: str = ""  # "`CMD`" or "process PID (NAME)"
    freq: int | None = None
    call_graph: str = "fp"
    seconds: float | None = None  # wall time recorded
    exit_status: int | None = None  # CMD's, when perf.sh started it
    stat_how: str = ""  # how the counters were taken beside the samples


def metrics(samples, counters, prefix=None):
    ms = [runfile.metric(f"{prefix}.cpu.samples" if prefix else "cpu.samples", "count", "lower",
                         [samples])]
    ms += perf_stat.metrics(counters, prefix)
    runfile.validate_metrics(ms)
    return ms


FILES = [{"kind": "flamegraph", "path": "flamegraph.svg", "title": "perf flame graph (CPU)"}]


def _code(name):
    name = name.replace("|", "\\|")
    return f"``{name}``" if "`" in name else f"`{name}`"


def _count(c):
    if c.value is None:
        return c.status
    if c.event == "task-clock":
        return f"{c.value:,.1f} ms"
    return f"{c.value:,.0f}"


def _table(rows, total):
    lines = ["| # | function | samples | share |", "|--:|---|--:|--:|"]
    for i, (name, n) in enumerate(rows, 1):
        lines.append(f"| {i} | {_code(name)} | {n:g} | {100.0 * n / total:.1f} % |")
    return lines


def summary(stacks, counters, plan, run, event):
    total = folded.total(stacks)
    self_, incl = folded.shares(stacks)
    call_graph = {"fp": "frame pointers", "dwarf": "DWARF (the stack copied at each sample)"}.get(
        run.call_graph.split(",")[0], run.call_graph)
    scope = "user space only" if plan and plan.scope == "user" else "user and kernel space"
    freq = f" at {run.freq} Hz" if run.freq else ""
    lines = [f"# perf: {run.target or 'profile'}", ""]
    what = (f"{total:g} samples of {event or 'an unknown event'}{freq}, call graphs by "
            f"{call_graph}, {scope}")
    if run.seconds is not None:
        what += f", recorded for {run.seconds:.1f} s"
    lines.append(what + ".")
    if run.exit_status is not None:
        lines.append(f"The program exited with status {run.exit_status}.")
    lines += ["", "Flame graph: [flamegraph.svg](flamegraph.svg) (open it in a browser: hover for "
              "a frame's samples, click to zoom, Ctrl-F to search by regular expression); "
              "`stacks.folded` holds the stacks, `perf report -i perf.data` reads the samples "
              "again.", ""]
    if counters:
        lines += ["## Counters", ""]
        if run.stat_how:
            lines += [run.stat_how, ""]
        lines += ["| counter | value |", "|---|--:|"]
        for c in counters:
            if c.status == perf_stat.NOT_SUPPORTED:
                continue
            note = f" ({c.enabled_pct:.0f} % of the time, scaled)" if (
                c.enabled_pct is not None and c.value is not None and c.enabled_pct < 99.5) else ""
            lines.append(f"| {c.event}{' (user)' if c.user_only else ''} | {_count(c)}{note} |")
        lines.append("")
    if plan and (plan.left_out or plan.notes):
        lines += ["## Left out", ""]
        lines += [f"- {x['what']}: {x['why']}" for x in plan.left_out]
        lines += [f"- {n}" for n in plan.notes]
        lines.append("")
    lines += [f"## Top {TOP_N} functions by self samples", "",
              "The samples taken in the function itself (the leaf of the stack).", ""]
    lines += _table(folded.top(self_, TOP_N), total)
    lines += ["", f"## Top {TOP_N} functions by inclusive samples", "",
              "The samples with the function anywhere on the stack (itself and its callees).", ""]
    lines += _table(folded.top(incl, TOP_N), total)
    return "\n".join(lines) + "\n"


def write(out_dir, stacks, event, run, prefix=None):
    """Writes metrics.json, files.json and summary.md into out_dir from the
    stacks and whatever stat.csv and plan.json it holds. Returns the summary."""
    out_dir = Path(out_dir)
    stat = out_dir / "stat.csv"
    counters = perf_stat.parse(stat.read_text()) if stat.exists() else []
    plan_file = out_dir / "plan.json"
    plan = perf_plan.read(plan_file) if plan_file.exists() else None
    text = summary(stacks, counters, plan, run, event)
    outdir.write(out_dir, metrics(folded.total(stacks), counters, prefix), text, FILES,
                 summary_title="perf summary")
    return text
