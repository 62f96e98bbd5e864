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


def write(out_dir, metrics, summary, files=()):
    """files: (kind, path relative to out_dir, title) beyond summary.md, which
    is always listed first. Raises ValueError before writing anything when a
    metric or a file entry is wrong."""
    out = Path(out_dir)
    validate_metrics(metrics)
    entries = [{"kind": "summary", "path": "summary.md", "title": summary.splitlines()[0].lstrip("# ")
                if summary.strip() else "summary"}]
    for kind, path, title in files:
        if kind not in KINDS:
            raise ValueError(f"files.json: kind {kind!r} is not one of {', '.join(KINDS)}")
        if Path(path).is_absolute() or ".." in Path(path).parts:
            raise ValueError(f"files.json: {path!r} is not a path inside the output directory")
        entries.append({"kind": kind, "path": str(path), "title": title})
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "summary.md", summary)
    _write(out / "metrics.json", json.dumps({"metrics": metrics}, indent=1) + "\n")
    _write(out / "files.json", json.dumps(entries, indent=1) + "\n")


def flamegraph(out_dir, folded_name, svg_name, title):
    """The SVG of out_dir/folded_name by `perfkit profile flamegraph`, when
    this checkout has that verb (probed by its --help). Returns (svg_name or
    None, one line saying what happened, for the summary). Its interface is
    taken to be `flamegraph FOLDED -o SVG --title TITLE`."""
    import subprocess
    import sys
    out = Path(out_dir)
    base = [sys.executable, "-m", "perfkit", "profile", "flamegraph"]
    env = dict(os.environ)
    harness = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = harness + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    probe = subprocess.run(base + ["--help"], capture_output=True, text=True, env=env)
    if probe.returncode != 0:
        return None, (f"No flame graph: this checkout has no `perfkit profile flamegraph`; "
                      f"{folded_name} holds the folded stacks for any flame graph tool.")
    made = subprocess.run(base + [str(out / folded_name), "-o", str(out / svg_name),
                                  "--title", title], capture_output=True, text=True, env=env)
    if made.returncode != 0 or not (out / svg_name).is_file():
        why = (made.stderr.strip().splitlines() or ["no SVG written"])[-1]
        return None, f"No flame graph: `perfkit profile flamegraph` failed: {why}"
    return svg_name, f"Flame graph: {svg_name}."
