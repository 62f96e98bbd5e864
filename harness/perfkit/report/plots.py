"""The report's plots, one SVG each: the SUT's RSS and CPU over a run
(timeline), each metric's change against its baseline (forest) and the
headline metrics over the history (trend).

Drawn on matplotlib Figures without pyplot (no global figure state), under a
style of our own; the SVGs are byte-for-byte repeatable and keep their text
as text, so a report's words can be searched and tested."""
import functools
import math
import zipfile
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

WIDTH_IN = 8.0  # 800 px at 100 dpi
MAX_FOREST_ROWS = 60
RED, GREEN, ORANGE, BLUE = "#d62728", "#2ca02c", "#ff7f0e", "#4c72b0"
VERDICT_COLOURS = {"regression": RED, "improvement": GREEN, "inconclusive": ORANGE}
PHASE_TINTS = ("#eef2f7", "#f7f3ea")
BAND = "#ebebeb"  # the threshold band: background, not data

_STYLE = {
    "svg.fonttype": "none",          # text stays <text>, searchable
    "svg.hashsalt": "perfkit",       # fixed ids: the same input gives the same bytes
    "text.parse_math": False,        # a "$" in a metric name is just a "$"
    "font.size": 9, "axes.titlesize": 10, "figure.titlesize": 11,
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#e5e5e5", "grid.linewidth": 0.6,
    "axes.axisbelow": True, "legend.frameon": False,
}


def _styled(draw):
    """Runs a plot function under _STYLE, restored afterwards."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_STYLE):
            return draw(*args, **kwargs)
    return wrapper


def _save(fig, out_path):
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, format="svg", metadata={"Date": None})  # no date: repeatable
    return out_path


def _shorten(name, width):
    """The end of a long name is what tells metrics apart, so the start goes."""
    return name if len(name) <= width else "..." + name[-(width - 3):]


# --- timeline -------------------------------------------------------------

def cpu_percent(t, cpu_ns, window_s=0.5):
    """CPU use in % of one core over consecutive windows of about window_s:
    per-sample differences at 100 Hz are quantised by the kernel's tick and
    jagged. Returns (t_mid, percent), both empty for fewer than two samples."""
    t, cpu = np.asarray(t, dtype=float), np.asarray(cpu_ns, dtype=float)
    if len(t) < 2:
        return np.empty(0), np.empty(0)
    # The first sample at or after each edge: windows follow the samples
    # however irregular, and each difference is between two real readings.
    edges = np.searchsorted(t, np.arange(t[0], t[-1], window_s))
    edges = np.unique(np.append(edges, len(t) - 1))
    if len(edges) > 2 and t[edges[-1]] - t[edges[-2]] < window_s / 2:
        edges = np.delete(edges, -2)  # a short last window would be noise: merged
    dt = np.diff(t[edges])
    percent = np.diff(cpu[edges]) / np.where(dt > 0, dt, np.inf) / 1e7  # ns/s -> % of a core
    return (t[edges][:-1] + t[edges][1:]) / 2, percent


def _load_series(path):
    """(t, rss_bytes, cpu_ns) from a sampler's .npz, or None if it cannot be read."""
    if path is None:
        return None
    try:
        with np.load(path) as z:
            t, rss, cpu = z["t"], z["rss_bytes"], z["cpu_ns"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return (t, rss, cpu) if len(t) else None


def _shade_phases(upper, lower, phases):
    """Alternating tints behind both panels, the names above the upper one."""
    for i, ph in enumerate(phases):
        for ax in (upper, lower):
            ax.axvspan(ph["start_s"], ph["end_s"], color=PHASE_TINTS[i % 2], lw=0, zorder=0)
    _phase_names(upper, phases)


def _phase_names(ax, phases, size=8):
    """Each name flat above its phase if it fits, else flat on a second row,
    else upright and shortened: names never run into each other."""
    x0, x1 = ax.get_xlim()
    pt_per_s = ax.get_position().width * WIDTH_IN * 72 / max(x1 - x0, 1e-9)
    row_ends = [-math.inf, -math.inf]  # where each row's last name ends, in points
    for ph in sorted(phases, key=lambda ph: ph["start_s"]):
        mid = (ph["start_s"] + ph["end_s"]) / 2
        if not x0 <= mid <= x1:
            continue
        centre, half = (mid - x0) * pt_per_s, len(ph["name"]) * size * 0.3 + 3  # ~0.6 em a char
        row = next((r for r in (0, 1) if centre - half > row_ends[r]), None)
        style = dict(ha="center", va="bottom", color="#555555", clip_on=False)
        if row is None:
            ax.text(mid, 1.02, _shorten(ph["name"], 16), transform=ax.get_xaxis_transform(),
                    rotation=90, fontsize=size - 1, **style)
            row_ends = [max(end, centre + size) for end in row_ends]
        else:
            at = offset_copy(ax.get_xaxis_transform(), fig=ax.figure, y=row * (size + 3),
                             units="points")
            ax.text(mid, 1.02, ph["name"], transform=at, fontsize=size, **style)
            row_ends[row] = centre + half


@_styled
def timeline(series, title, out_path):
    """The system under test's RSS and CPU over time, the load phases shaded;
    one thin line per repetition. None when no repetition's .npz is readable."""
    loaded = [(s.get("repetition") or k + 1, _load_series(s.get("path")))
              for k, s in enumerate(series)]
    loaded = [(rep, data) for rep, data in loaded if data is not None]
    if not loaded:
        return None
    fig = Figure(figsize=(WIDTH_IN, 5.2), layout="constrained")
    upper, lower = fig.subplots(2, 1, sharex=True)
    for rep, (t, rss, cpu) in loaded:
        upper.plot(t, np.asarray(rss) / 1e6, lw=1, label=f"rep {rep}")
        lower.plot(*cpu_percent(t, cpu), lw=1)
    upper.set_ylabel("RSS, MB")
    lower.set_ylabel("CPU, % of one core")
    lower.set_xlabel("time, s")
    for ax in (upper, lower):
        ax.set_ylim(bottom=0)  # from zero: a step reads as its true size
    phases = next((s["phases"] for s in series if s.get("phases")), [])
    upper.set_xlim(0, max([float(t[-1]) for _, (t, _, _) in loaded]
                          + [ph["end_s"] for ph in phases]))
    if len(loaded) > 1:
        upper.legend(loc="lower right", fontsize=8, ncol=min(len(loaded), 5))
    fig.get_layout_engine().execute(fig)  # panel sizes first: the labels depend on them
    _shade_phases(upper, lower, phases)
    fig.suptitle(title)
    return _save(fig, out_path)


# --- forest ----------------------------------------------------------------

def _oriented(row):
    """(point, low, high) in %, + worse whichever way the metric is better."""
    c = row.change
    if row.better == "higher":
        return -c.change * 100, -c.high * 100, -c.low * 100
    return c.change * 100, c.low * 100, c.high * 100


@_styled
def forest(rows, title, out_path, confidence=0.95):
    """Each metric's change against its baseline with its interval, right is
    worse, the worst at the top. None when no row has a change."""
    drawn = [r for r in rows if r.change is not None and math.isfinite(r.change.change)]
    if not drawn:
        return None
    total = len(drawn)
    if total > MAX_FOREST_ROWS:  # the largest moves, either way
        drawn = sorted(drawn, key=lambda r: -abs(_oriented(r)[0]))[:MAX_FOREST_ROWS]
        title = f"{title} ({MAX_FOREST_ROWS} of {total} shown)"
    drawn.sort(key=lambda r: _oriented(r)[0])  # ascending: the worst gets the top row
    fig = Figure(figsize=(WIDTH_IN, 1.9 + 0.25 * len(drawn)), layout="constrained")
    ax = fig.subplots()
    for y, r in enumerate(drawn):
        point, low, high = _oriented(r)
        low, high = (v if math.isfinite(v) else point for v in (low, high))
        colour = VERDICT_COLOURS.get(r.verdict, BLUE)
        ax.add_patch(Rectangle((-r.threshold * 100, y - 0.3), 2 * r.threshold * 100, 0.6,
                               color=BAND, lw=0, zorder=1))
        ax.plot([low, high], [y, y], color=colour, lw=1.5, solid_capstyle="butt", zorder=3)
        ax.plot([point], [y], "o", color=colour, ms=5, zorder=4)
    ax.axvline(0, color="#333333", lw=0.8, zorder=2)
    ax.set_yticks(range(len(drawn)), [_shorten(r.name, 48) for r in drawn], fontsize=8)
    ax.set_ylim(-0.7, len(drawn) - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("change, % (right is worse)")
    ax.set_title(title)
    _forest_legend(ax, drawn, confidence)
    return _save(fig, out_path)


def _forest_legend(ax, drawn, confidence):
    order = list(VERDICT_COLOURS)  # the ones that matter first, then the rest as met
    seen = sorted(dict.fromkeys(r.verdict for r in drawn),
                  key=lambda v: order.index(v) if v in order else len(order))
    handles = [Line2D([], [], color=VERDICT_COLOURS.get(v, BLUE), marker="o", ms=5, lw=1.5,
                      label=v) for v in seen]
    handles.append(Patch(color=BAND, label="± threshold"))
    # Centred on the figure (the names make the axes sit right of centre) and a
    # fixed distance in points below the axes: under the x label at any height.
    fig = ax.figure
    below = blended_transform_factory(
        fig.transFigure, offset_copy(ax.transAxes, fig=fig, y=-34, units="points"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below,
              ncol=len(handles), fontsize=8, handlelength=1.6, columnspacing=1.2,
              title=f"point and {confidence:.0%} interval, by verdict", title_fontsize=8)


# --- trend -----------------------------------------------------------------

def _scale(unit, values):
    """(factor, label) to show values of unit in a readable size."""
    top = max((abs(v) for v in values), default=0)
    steps = {"bytes": [(1e9, "GB"), (1e6, "MB"), (1e3, "KB"), (1, "bytes")],
             "1/s": [(1e6, "M/s"), (1e3, "k/s"), (1, "/s")],
             "count": [(1e6, "millions"), (1e3, "thousands"), (1, "count")]}
    if unit in steps:
        return next(((1 / size, name) for size, name in steps[unit] if top >= size),
                    (1, steps[unit][-1][1]))
    return 1, {"percent": "%", "us": "µs"}.get(unit, unit)


def _trend_panel(ax, report):
    ys = [p["median"] for p in report["points"]]
    factor, label = _scale(report["unit"], ys)
    ys = np.asarray(ys, dtype=float) * factor
    xs = np.arange(1, len(ys) + 1)
    ax.plot(xs, ys, "o-", color=BLUE, lw=1, ms=3, zorder=3)
    cps = sorted(report.get("change_points", []), key=lambda c: c["index"])
    for c in cps:
        ax.axvline(c["index"] + 1, color=RED if c["worse"] else GREEN, ls="--", lw=1, zorder=2)
    if cps:  # each segment's level, from change point to change point
        bounds = [1] + [c["index"] + 1 for c in cps] + [len(ys)]
        levels = [cps[0]["before"]] + [c["after"] for c in cps]
        ax.hlines(np.asarray(levels) * factor, bounds[:-1], bounds[1:], color="#222222",
                  lw=1.5, alpha=0.6, zorder=4)
    ax.set_title(_shorten(report["metric"], 34), fontsize=9)
    ax.set_ylabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(ys) == 1:
        ax.set_xlim(0.5, 1.5)
        ax.set_xticks([1])
    _least_span(ax, ys)


def _least_span(ax, ys, share=0.1):
    """At least share of the level from bottom to top: noise of 1 % must not
    fill a panel and look like a trend."""
    ys = ys[np.isfinite(ys)]
    if not len(ys):
        return
    lo, hi = ax.get_ylim()
    mid, need = (ys.min() + ys.max()) / 2, share * abs(np.median(ys))
    if hi - lo < need:
        ax.set_ylim(mid - need / 2, mid + need / 2)


@_styled
def trend(reports, title, out_path, max_panels=12):
    """The headline metrics over the history, one panel each (3 columns), the
    change points dashed (red worse, green better). None when reports is empty."""
    reports = list(reports)[:max_panels]
    if not reports:
        return None
    cols = min(3, len(reports))
    nrows = math.ceil(len(reports) / cols)
    fig = Figure(figsize=(WIDTH_IN, 0.6 + 2.3 * nrows), layout="constrained")
    axes = fig.subplots(nrows, cols, squeeze=False).ravel()
    for ax, report in zip(axes, reports):
        _trend_panel(ax, report)
    for ax in axes[len(reports):]:
        ax.set_visible(False)
    for ax in axes[max(0, len(reports) - cols):len(reports)]:
        ax.set_xlabel("run")  # under the lowest panel of each column only
    fig.suptitle(title)
    return _save(fig, out_path)
