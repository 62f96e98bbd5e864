"""Each metric's series through the stored runs (its per-run medians in time
order, one series per machine fingerprint: absolute figures compare only on
one machine), its change points, and how both are shown: a dict for JSON and
compact text lines."""
import math
from dataclasses import dataclass, field

import numpy as np

from . import changepoints

SPARK = "▁▂▃▄▅▆▇█"
SPARK_ASCII = "_.-=+*#@"


@dataclass
class Series:
    fingerprint: str
    metric: str
    unit: str = ""
    better: str = "lower"
    revisions: list = field(default_factory=list)
    started: list = field(default_factory=list)
    medians: list = field(default_factory=list)


def series(runs):
    """The series in runs (oldest first), sorted by fingerprint and metric.
    Unit and direction are the latest run's."""
    out = {}
    for r in runs:
        for m in r.metrics:
            s = out.setdefault((r.fingerprint, m.name), Series(r.fingerprint, m.name))
            s.unit, s.better = m.unit, m.better
            s.revisions.append(r.revision)
            s.started.append(r.started)
            s.medians.append(m.median)
    return [out[k] for k in sorted(out)]


def report(s, **options):
    """One series and its change points, as plain data (for --json and for text)."""
    found = changepoints.find(s.medians, **options)
    point = lambda i: {"revision": s.revisions[i], "started": s.started[i], "median": s.medians[i]}
    out = {
        "fingerprint": s.fingerprint, "metric": s.metric, "unit": s.unit, "better": s.better,
        "runs": len(s.medians), "first": point(0), "last": point(-1),
        "points": [point(i) for i in range(len(s.medians))],
        "change_points": [{"index": c.index, "revision": s.revisions[c.index],
                           "started": s.started[c.index], "before": c.before, "after": c.after,
                           # null where the step starts from 0 (no relative size)
                           "relative": c.relative if math.isfinite(c.relative) else None,
                           "worse": c.worse(s.better),
                           "p_value": c.p_value} for c in found.points],
    }
    if found.note:
        out["note"] = found.note
    return out


def sparkline(values, width=40, ascii_only=False):
    """The values as one bar a character, lowest to highest; more than width
    values are shown as the medians of width runs of them."""
    chars = SPARK_ASCII if ascii_only else SPARK
    v = np.asarray(values, dtype=float)
    if len(v) > width:
        v = np.array([np.median(part) for part in np.array_split(v, width)])
    lo, hi = v.min(), v.max()
    if hi == lo:
        return chars[0] * len(v)
    return "".join(chars[int(x)] for x in np.round((v - lo) / (hi - lo) * (len(chars) - 1)))


def figure(value, unit):
    if unit == "bytes" and abs(value) >= 1 << 20:
        return f"{value / (1 << 20):.4g} MiB"
    return f"{value:.4g} {unit}"


def text(reports, ascii_only=False):
    """Lines for a terminal: per fingerprint, each metric's trend on one line,
    then its change points, one a line."""
    lines, fingerprint = [], None
    width = max((len(r["metric"]) for r in reports), default=0)
    for r in reports:
        if r["fingerprint"] != fingerprint:
            fingerprint = r["fingerprint"]
            lines.append(f"machine {fingerprint}")
        unit = r["unit"]
        trend = f"{figure(r['first']['median'], unit)} -> {figure(r['last']['median'], unit)}"
        spark = sparkline([p["median"] for p in r["points"]], ascii_only=ascii_only)
        lines.append(f"  {r['metric']:<{width}}  {r['runs']:>4} runs  {trend}  {spark}")
        for c in r["change_points"]:
            size = "from 0" if c["relative"] is None else f"{c['relative'] * 100:+.1f} %"
            lines.append(f"    step at run {c['index'] + 1}, {c['revision'][:10]}: "
                         f"{figure(c['before'], unit)} -> {figure(c['after'], unit)}, "
                         f"{size} ({'worse' if c['worse'] else 'better'})")
        if "note" in r:
            lines.append(f"    {r['note']}")
    return lines
