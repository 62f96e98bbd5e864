"""What every profiling wrapper leaves in its output directory, written in
one way: metrics.json ({"metrics": [...]}, checked against the run schema
first), files.json (what a report should link) and summary.md."""
import json
import os
from pathlib import Path

from ..runfile import validate_metrics

KINDS = ("flamegraph", "heaptrack", "callgrind", "summary")


def _write(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)  # a reader never sees half a file


def write(out_dir, metrics, summary, files=(), summary_title=None):
    """files: {"kind", "path", "title"} of what a report should link besides
    summary.md, which is listed last under summary_title (by default its
    first line). A path is relative
    to out_dir (inside it) or absolute. Raises ValueError before writing
    anything when a metric or a file entry is wrong."""
    out = Path(out_dir)
    validate_metrics(metrics)
    if summary_title is None:
        summary_title = (summary.splitlines() or ["summary"])[0].lstrip("# ") or "summary"
    entries = []
    for f in [*files, {"kind": "summary", "path": "summary.md", "title": summary_title}]:
        if f["kind"] not in KINDS:
            raise ValueError(f"files.json: kind {f['kind']!r} is not one of {', '.join(KINDS)}")
        if ".." in Path(f["path"]).parts:
            raise ValueError(f"files.json: {f['path']!r} is not a path inside the output "
                             "directory")
        entries.append({"kind": f["kind"], "path": str(f["path"]), "title": f["title"]})
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "summary.md", summary)
    _write(out / "metrics.json", json.dumps({"metrics": metrics}, indent=1) + "\n")
    _write(out / "files.json", json.dumps(entries, indent=1) + "\n")


def flamegraph(out_dir, stacks, svg_name, title, unit="sample"):
    """Writes out_dir/svg_name, the flame graph of stacks ({folded stack:
    samples, or bytes with unit="bytes"}). Returns (svg_name or None, one
    line for the summary)."""
    from . import flamegraph as fg
    try:
        svg = fg.render(stacks, title=title, unit=unit)
    except ValueError as e:
        return None, f"No flame graph: {e}."
    _write(Path(out_dir) / svg_name, svg)
    return svg_name, f"Flame graph: {svg_name}."
