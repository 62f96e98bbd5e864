"""A report written to its directory: the plots first (each a file beside the
markdown), then the content and its markdown, as <date>-<revision>.md and
latest.md, and to GitHub's step summary when there is one."""
import math
import os
import shutil
from pathlib import Path

from .. import attachments
from . import content, markdown

HEADLINES = 12  # metrics in the trend plot: the ones with targets first


def stem(run):
    return f"{run['started'][:10]}-{run['revision'][:12]}"


def _series_plots(run, run_dir, plot_dir, out_dir):
    from . import plots
    by_name = {}
    for a in attachments.of_kind(run, "series"):
        by_name.setdefault(a["name"], []).append(
            {"repetition": a.get("repetition"), "path": attachments.resolve(a, run_dir),
             "phases": a.get("phases", [])})
    out = []
    for name, series in by_name.items():
        title = f"{name}: the system under test's RSS and CPU, phases shaded"
        path = plots.timeline(series, title, plot_dir / f"timeline-{name}.svg")
        if path:
            out.append({"title": title, "path": os.path.relpath(path, out_dir)})
    return out


def _headlines(rows):
    """The metrics a trend shows: those with targets (the users' bounds), then
    the judged ones, at most HEADLINES."""
    named = [r.name for r in rows if r.target is not None and not math.isnan(r.now)]
    named += [r.name for r in rows if r.change is not None and r.name not in named]
    return named[:HEADLINES]


def _trends(history, run, rows):
    """(reports of the headline metrics' series, lines naming their steps)."""
    from ..history import trend
    from ..history.store import open_store
    with open_store(history) as store:
        stored = store.runs(fingerprint=run["machine"]["fingerprint"])
    wanted = _headlines(rows)
    series = [s for s in trend.series(stored) if s.metric in wanted and len(s.medians) >= 2]
    series.sort(key=lambda s: wanted.index(s.metric))
    reports = [trend.report(s) for s in series]
    lines = [f"`{r['metric']}`: step at run {c['index'] + 1} of {r['runs']} "
             f"(revision `{c['revision'][:10]}`): {trend.figure(c['before'], r['unit'])} -> "
             f"{trend.figure(c['after'], r['unit'])} ({'worse' if c['worse'] else 'better'})"
             for r in reports for c in r["change_points"]]
    if reports and not lines:
        lines = [f"no step in {len(reports)} headline metrics over their last "
                 f"{max(r['runs'] for r in reports)} runs"]
    return reports, lines


def _profiles(run, run_dir, plot_dir, out_dir):
    """Links to the run's profiles (every attachment but series), copied into
    the report's own directory first: a run's directory is often a build's,
    remade by the next run, and the report must keep what it links."""
    out = []
    for a in run.get("attachments", []):
        if a["kind"] == "series":
            continue
        source = attachments.resolve(a, run_dir)
        rep = f"-{a['repetition']}" if a.get("repetition") else ""
        kept = plot_dir / "profiles" / f"{a['name']}{rep}-{source.name}"
        if source.is_file():
            kept.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, kept)
        else:  # said, not dropped: the link shows where it was
            kept = source
        out.append({"title": a.get("title") or f"{a['kind']} of {a['name']}",
                    "path": os.path.relpath(kept, out_dir)})
    return out


def write_report(run, run_path, rows, status, found, *, out_dir, against_run=False,
                 confidence=0.95, history=None):
    """Writes the report; returns (content, the markdown's path)."""
    from . import plots
    out_dir = Path(out_dir)
    run_dir = Path(run_path).parent
    name = stem(run)
    plot_dir = out_dir / name
    plot_dir.mkdir(parents=True, exist_ok=True)
    drawn = _series_plots(run, run_dir, plot_dir, out_dir)
    side = "A" if against_run else "the baseline"
    title = f"Each change against {side}, with its {confidence:.0%} interval"
    forest = plots.forest(rows, title, plot_dir / "changes.svg", confidence)
    if forest:
        drawn.append({"title": title, "path": os.path.relpath(forest, out_dir)})
    reports, trend_lines = _trends(history, run, rows) if history else ([], [])
    if reports:
        title = "Headline metrics over the history, steps marked"
        path = plots.trend(reports, title, plot_dir / "trend.svg")
        drawn.append({"title": title, "path": os.path.relpath(path, out_dir)})
    c = content.build(run, rows, status, found, run_path=run_path, against_run=against_run,
                      confidence=confidence, plots=drawn,
                      profiles=_profiles(run, run_dir, plot_dir, out_dir), trends=trend_lines)
    text = markdown.render(c)
    path = out_dir / f"{name}.md"
    path.write_text(text)
    (out_dir / "latest.md").write_text(text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write(text + "\n")
    return c, path
