"""Files that belong to a run (a scenario repetition's sampled series, a
profile), listed in its `attachments`. A path is kept relative to the run
file's directory, so a directory of runs and their files moves as one; these
helpers rebase paths when a run is written elsewhere or joined into another."""
import os
from pathlib import Path


def resolve(att, run_dir):
    """The attachment's file, for a run file in run_dir."""
    return Path(run_dir) / att["path"]


def rebased(atts, from_dir, to_dir):
    """Attachments whose paths were relative to from_dir, made relative to to_dir."""
    out = []
    for a in atts:
        where = Path(from_dir) / a["path"]
        out.append({**a, "path": os.path.relpath(where.resolve(), Path(to_dir).resolve())})
    return out


def renamed(atts, prefix):
    """Attachments of a run imported under a prefix are named after it."""
    return [{**a, "name": prefix} for a in atts] if prefix else list(atts)


def union(*lists):
    """Lists joined in order, each attachment once."""
    out, seen = [], set()
    for atts in lists:
        for a in atts:
            key = (a["kind"], a["name"], a["path"], a.get("repetition"))
            if key not in seen:
                seen.add(key)
                out.append(a)
    return out


def of_kind(run, kind):
    return [a for a in run.get("attachments", []) if a["kind"] == kind]
