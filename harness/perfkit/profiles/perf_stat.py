"""`perf stat -x,` output read into counters and perfkit metrics.

A line is value,unit,event,run time (ns),enabled %,metric,metric unit; the
value may be "<not supported>" (the machine has no such counter: a VM
without a PMU has no cycles or instructions) or "<not counted>" (never
scheduled: the events were off, or the target ended first). Event names
carry modifiers ("task-clock:u" when only user space may be counted) and, on
hybrid CPUs, a PMU ("cpu_core/instructions/", one line per core type): both
are taken off and the lines of one event summed."""
import re
from dataclasses import dataclass

from .. import runfile

NOT_SUPPORTED, NOT_COUNTED, COUNTED = "not supported", "not counted", "counted"

# perf's event name (and its aliases) -> (metric, unit); the counters that
# mean the same on every platform (see profiling/README.md).
METRICS = {
    "task-clock": ("cpu.task_clock_ms", "ms"),
    "context-switches": ("cpu.context_switches", "count"),
    "cs": ("cpu.context_switches", "count"),
    "cpu-migrations": ("cpu.cpu_migrations", "count"),
    "migrations": ("cpu.cpu_migrations", "count"),
    "page-faults": ("cpu.page_faults", "count"),
    "faults": ("cpu.page_faults", "count"),
    "instructions": ("cpu.instructions", "count"),
    "cycles": ("cpu.cycles", "count"),
    "cpu-cycles": ("cpu.cycles", "count"),
}
# What perf.sh asks perf stat for, in this order.
EVENTS = ["task-clock", "context-switches", "cpu-migrations", "page-faults", "instructions",
          "cycles"]

_PMU = re.compile(r"^[\w.-]+/(?P<event>[^/,=]+)/")


@dataclass
class Counter:
    event: str  # without modifiers or PMU
    status: str  # COUNTED, NOT_SUPPORTED, NOT_COUNTED
    value: float | None  # as perf printed it (scaled when multiplexed); None unless counted
    unit: str  # perf's: "msec" for the clocks, "" for counts
    enabled_pct: float | None  # below 100: multiplexed, the value is an estimate
    user_only: bool  # a ":u" modifier: kernel time and events not counted


def normalise(event):
    """'cpu_core/instructions/u' or 'task-clock:u' -> ('instructions' | 'task-clock', user_only)."""
    event = event.strip()
    m = _PMU.match(event)
    modifiers = ""
    if m:
        modifiers = event[m.end():].lstrip(":")
        event = m["event"]
    elif ":" in event:
        event, modifiers = event.split(":", 1)
    return event, "u" in modifiers and "k" not in modifiers


def _float(text):
    try:
        return float(text)
    except ValueError:
        return None


def parse(text):
    """perf stat -x, text -> [Counter], one per event in the order first seen."""
    counters = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(",")
        if len(fields) < 3:
            continue  # "Events disabled", a warning: not a counter
        raw, unit, name = fields[0].strip(), fields[1].strip(), fields[2]
        if not name.strip():
            continue
        event, user_only = normalise(name)
        enabled = _float(fields[4]) if len(fields) > 4 else None
        if raw == "<not supported>":
            status, value = NOT_SUPPORTED, None
        elif raw == "<not counted>":
            status, value = NOT_COUNTED, None
        else:
            value = _float(raw)
            if value is None:
                continue
            status = COUNTED
        old = counters.get(event)
        if old is None:
            counters[event] = Counter(event, status, value, unit, enabled, user_only)
        elif status == COUNTED:  # a hybrid CPU's second PMU: the counts add up
            old.value = (old.value or 0.0) + value
            old.status = COUNTED
            if enabled is not None and old.enabled_pct is not None:
                old.enabled_pct = min(old.enabled_pct, enabled)
    return list(counters.values())


def metrics(counters, prefix=None):
    """The counted ones as perfkit metrics (better: lower); the others have
    no figure to give."""
    out = []
    for c in counters:
        if c.status != COUNTED or c.event not in METRICS:
            continue
        name, unit = METRICS[c.event]
        value = c.value
        if unit == "ms" and c.unit in ("nsec", "ns"):
            value = value / 1e6
        out.append(runfile.metric(f"{prefix}.{name}" if prefix else name, unit, "lower", [value]))
    runfile.validate_metrics(out)
    return out
