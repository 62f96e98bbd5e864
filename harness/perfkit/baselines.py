"""Stored baselines: one perfkit.run/1 file per machine fingerprint
(baselines/<fingerprint>.json), every process run and repetition kept.
Absolute figures are compared only on the machine that measured them; on
another, only portable metrics (ratios within one run, instruction counts)."""
from dataclasses import dataclass, field
from pathlib import Path

from . import runfile
from .merge import merge_runs
from .stats import centre
from .units import show
from .verdict import target_missed

# The machine's fields that change what absolute figures mean.
_FIELDS = ("cpu", "cores", "memory_bytes", "kernel", "compiler", "build", "governor")


@dataclass
class Found:
    """The baseline a run is compared with: `run` is None when there is none;
    `portable_only` when it is of another machine, `differences` says how."""
    run: dict | None
    path: Path | None
    portable_only: bool = False
    differences: list = field(default_factory=list)


def path_for(directory, fingerprint):
    return Path(directory) / f"{fingerprint}.json"


def differences(a, b):
    """What differs between two machines, named: ['compiler: GNU 12.2.0 -> Clang 14.0.6']."""
    def shown(m, k):
        return f"{round(m[k] / 2**30)} GiB" if k == "memory_bytes" else m.get(k)
    return [f"{k}: {shown(a, k)} -> {shown(b, k)}" for k in _FIELDS if shown(a, k) != shown(b, k)]


def find(where, machine):
    """The baseline for `machine` in `where` (a directory of baselines or one
    file). In a directory without this machine's, the one that differs in the
    fewest fields serves for portable metrics."""
    where = Path(where)
    if where.is_dir():
        own = path_for(where, machine["fingerprint"])
        if own.exists():
            return Found(runfile.read_run(own), own)
        others = sorted(where.glob("*.json"))
        if not others:
            return Found(None, None)
        runs = [(runfile.read_run(p), p) for p in others]
        run, path = min(runs, key=lambda rp: (len(differences(rp[0]["machine"], machine)),
                                              str(rp[1])))
    elif where.exists():
        run, path = runfile.read_run(where), where
    else:
        raise FileNotFoundError(f"no baseline file or directory {where}")
    if run["machine"]["fingerprint"] == machine["fingerprint"]:
        return Found(run, path)
    return Found(run, path, portable_only=True,
                 differences=differences(run["machine"], machine) or ["fingerprint"])


def problems(run, old):
    """Why a run should not become a baseline: targets it misses, and metrics
    of the old baseline it lacks."""
    out = [f"{m['name']} misses its target {m['target']:g}" for m in run["metrics"]
           if target_missed(centre(runfile.groups(m)), m["better"], m.get("target"))]
    if old:
        have = {m["name"] for m in run["metrics"]}
        out += [f"{m['name']} is in the baseline but not in the run"
                for m in old["metrics"] if m["name"] not in have]
    return out


def changes(old, new):
    """Lines that say what an update changes, metric by metric."""
    before = {m["name"]: m for m in old["metrics"]} if old else {}
    after = {m["name"]: m for m in new["metrics"]}
    lines = []
    for name, m in after.items():
        now = centre(runfile.groups(m))
        runs = len(runfile.groups(m))
        counted = f"{runs} run{'s' * (runs != 1)}"
        if name not in before:
            lines.append(f"+ {name}: {show(now, m['unit'])} ({counted})")
            continue
        was = centre(runfile.groups(before[name]))
        rel = f"{(now / was - 1) * 100:+.1f} %" if was else "from 0"
        lines.append(f"~ {name}: {show(was, m['unit'])} -> {show(now, m['unit'])} "
                     f"({rel}, {counted})")
    lines += [f"- {name}" for name in before if name not in after]
    return lines


def update(runs, directory, force=False):
    """Writes the merged runs as their machine's baseline in `directory`;
    returns (path, lines saying what changed). Raises ValueError naming the
    problems unless forced."""
    new = merge_runs(runs)
    new.pop("attachments", None)  # files of a build tree: not kept beside a baseline
    path = path_for(directory, new["machine"]["fingerprint"])
    old = runfile.read_run(path) if path.exists() else None
    wrong = problems(new, old)
    if wrong and not force:
        raise ValueError("; ".join(wrong) + " (--force to store it all the same)")
    Path(directory).mkdir(parents=True, exist_ok=True)
    runfile.write_run(new, path)
    return path, changes(old, new)
