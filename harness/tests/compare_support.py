"""Run files made for the comparator's and the report's tests: synthetic
process runs of a known level and spread, and perfkit as a command."""
import os
import subprocess
from pathlib import Path

import numpy as np

from perfkit import runfile

HARNESS = Path(__file__).resolve().parent.parent
PY = "/usr/bin/python3"


def perfkit(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(HARNESS)}
    return subprocess.run([PY, "-m", "perfkit", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def make_run(tmp_path, name, metrics, machine=None, revision="r1"):
    """A run file of `metrics`: (name, unit, better, [runs of samples], extra kwargs)."""
    run = runfile.new_run(build_dir=tmp_path, revision=revision)
    if machine:
        run["machine"].update(machine)
    for mname, unit, better, groups, extra in metrics:
        run["metrics"].append(runfile.metric(mname, unit, better, [x for g in groups for x in g],
                                             runs=[len(g) for g in groups], **extra))
    path = tmp_path / name
    runfile.write_run(run, path)
    return path


def runs(level, n=5, reps=3, cv=0.01, seed=0):
    rng = np.random.default_rng(seed)
    return [list(level * (1 + rng.normal(0, cv)) * (1 + rng.normal(0, 0.002, reps)))
            for _ in range(n)]
