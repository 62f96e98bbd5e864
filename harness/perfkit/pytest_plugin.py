"""perfkit's pytest plugin: a performance test in a few lines. Load it from a
conftest.py with `pytest_plugins = ["perfkit.pytest_plugin"]`.

- the `perf` marker; PERFKIT_SKIP_PERF=1 (or any reason) skips every test so
  marked, saying why, on a machine unfit to measure;
- `sampled_sut`: starts a system under test, waits until it is ready, samples
  its RSS and CPU through one or more phases (with loadgen's load if asked),
  stops it, and hands back the run (`perfkit.run/1`) and its figures;
- `perf_judge`: judges a run's metrics as `perfkit compare` does, against the
  stored baseline with the rules file's thresholds and targets: a regression or
  a missed target fails naming the metric; an undecided change is measured once
  more, then reported as a skip with the reason; a missed aim (the rules'
  `aim`: our own bound, tighter than the users') is an expected failure
  (xfail) that names it; nothing to judge it by is a skip too, never a
  silent pass.
"""
import fnmatch
import os
from pathlib import Path

import pytest

from . import baselines, compare, compare_table, rules
from .merge import merge_runs
from .units import show
from .verdict import INCONCLUSIVE, REGRESSION, TOO_FEW


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "perf: a performance test: measures, then judges against the stored "
                   "baseline (PERFKIT_SKIP_PERF=1 skips them all)")


def pytest_collection_modifyitems(config, items):
    why = os.environ.get("PERFKIT_SKIP_PERF", "")
    if why not in ("", "0"):
        reason = (why if why != "1" else "PERFKIT_SKIP_PERF=1") + \
            ": the performance suite is skipped on this machine"
        for item in items:
            if item.get_closest_marker("perf"):
                item.add_marker(pytest.mark.skip(reason=reason))


def repository():
    """The repository whose baselines/ and build are used: $PERFKIT_REPO, else the
    git work tree of the current directory, else the current directory."""
    from .verbs import work_tree
    return Path(os.environ.get("PERFKIT_REPO") or work_tree(Path.cwd()) or Path.cwd())


def build_dir():
    return Path(os.environ.get("PROCMOND_BUILD_DIR") or repository() / "build")


class Judge:
    """compare's judgement of chosen metrics, as a test's outcome."""

    def __init__(self, baseline_dir, rules_path):
        self.baseline_dir = Path(baseline_dir)
        self.rules = rules.load(rules_path) if Path(rules_path).exists() else rules.Rules()

    def rows(self, run, metrics):
        found = baselines.find(self.baseline_dir, run["machine"])
        globs = [metrics] if isinstance(metrics, str) else list(metrics)
        rows = compare.compare(run, found.run, self.rules, found.portable_only)
        # Only what the test measured: a baseline metric it did not is no concern of its.
        return found, [r for r in rows if r.verdict != compare.MISSING
                       and any(fnmatch.fnmatchcase(r.name, g) for g in globs)]

    def check(self, run, metrics="*", remeasure=None):
        """Fails on a regression or a missed target; measures once more (remeasure()
        returns another run of the same build) when undecided, then skips saying why.
        Returns the rows judged."""
        found, rows = self.rows(run, metrics)
        if not rows:
            pytest.fail(f"no metric of the run matches {metrics}")
        if remeasure and any(r.verdict in (INCONCLUSIVE, TOO_FEW) for r in rows):
            run = merge_runs([run, remeasure()])
            found, rows = self.rows(run, metrics)
        status = compare.exit_status(rows)
        table = "\n".join(compare_table.lines(rows)) + "\n" + compare_table.summary(rows, status)
        print(table)  # shown with -rA, and in the report of a failure
        bad = [r for r in rows if r.verdict == REGRESSION or r.target_missed]
        if bad:
            pytest.fail(f"{compare_table.summary(rows, status)}\n{table}", pytrace=False)
        undecided = [r.name for r in rows if r.verdict in (INCONCLUSIVE, TOO_FEW)]
        if undecided:
            again = " after measuring again" if remeasure else ""
            pytest.skip(f"inconclusive{again}: {', '.join(undecided)}")
        aims = [r for r in rows if r.aim_missed]
        if aims:  # our own goals: shown as an expected failure, never a pass, never a red build
            pytest.xfail("aims of ours missed: " + "; ".join(
                f"{r.name} {show(r.now, r.unit)} (aim {'<=' if r.better == 'lower' else '>='} "
                f"{show(r.aim, r.unit)})" for r in aims))
        if not compare.judged(rows):
            met = [r.name for r in rows if r.target is not None]
            where = ("no baseline for this machine" if found.run is None else
                     "the baseline is of another machine and these metrics are absolute")
            pytest.skip(f"{metrics}: targets met ({len(met)}), but not compared: {where} "
                        f"(fingerprint {run['machine']['fingerprint']}; "
                        "`perfkit baseline update RUN.json` stores one)")
        return rows


@pytest.fixture
def perf_judge():
    """Judges runs against the repository's baselines/ and its metrics.toml."""
    where = repository() / "baselines"
    return Judge(where, where / "metrics.toml")


@pytest.fixture
def sampled_sut(tmp_path):
    """sampled_sut(command, ready={...}, seconds=5, load=None, hz=20, phases=None,
    repetitions=1, name="sut") -> SampledRun: the SUT started, sampled through
    the phases (by default one, `measure`, of `seconds`, under `load`: loadgen's
    keys as in a scenario file), stopped. Placeholders as in scenario files:
    {bin}, {tmp}, {port}. Raises perfkit's RunError when the SUT fails."""
    from .runner import run_scenario
    from .scenario import parse

    def run(command, ready, seconds=5.0, load=None, hz=20, phases=None, repetitions=1,
            name="sut"):
        phase = {"name": "measure", "seconds": seconds, **({"load": load} if load else {})}
        doc = {"name": name, "sut": {"command": list(command), "ready": ready},
               "sampling": {"hz": hz}, "phases": phases or [phase]}
        return SampledRun(run_scenario(parse(doc), build_dir=build_dir(), repo=repository(),
                                       series_path=tmp_path / f"{name}.npz",
                                       repetitions=repetitions))
    return run


class SampledRun:
    """A run of the SUT: `run` the perfkit.run/1 dict; s["measure.sut.peak_rss_bytes"]
    the centre of a metric (the mean of its process runs' medians)."""

    def __init__(self, run):
        self.run = run

    def __getitem__(self, name):
        from . import runfile, stats
        m = next((m for m in self.run["metrics"] if m["name"] == name), None)
        if m is None:
            raise KeyError(f"{name} (the run has {', '.join(x['name'] for x in self.run['metrics'])})")
        return stats.centre(runfile.groups(m))
