"""The history of runs: both stores keep runs whole, in time order, once; change
points are found where a generated series steps and not in its noise; and
`perfkit history` end to end."""
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from perfkit import runfile
from perfkit.history import changepoints, trend
from perfkit.history.jsonl_store import JsonlStore
from perfkit.history.sqlite_store import SqliteStore
from perfkit.history.store import Store, StoreError, instant, open_store, stored_run

HARNESS = Path(__file__).resolve().parents[1]


def a_run(tmp_path, i, level=4.0, fingerprint=None, rss=5e7):
    """Run i of a series: revision and start follow from i."""
    run = runfile.new_run(build_dir=tmp_path, revision=f"{i:04d}" + "ab" * 18,
                          started=f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00+00:00")
    if fingerprint:
        run["machine"]["fingerprint"] = fingerprint
    runfile.add_metrics(run, [
        runfile.metric("enum.n1000", "ms", "lower", [level * 0.99, level, level * 1.02],
                       runs=[1, 2]),
        runfile.metric("rss.peak", "bytes", "lower", [rss]),
    ])
    return run


@pytest.fixture(params=["sqlite", "jsonl"])
def store_path(request, tmp_path):
    # A string: pathlib would drop the trailing / that asks for JSON lines.
    return f"{tmp_path}/" + ("history.sqlite" if request.param == "sqlite" else "history/")


def test_path_picks_the_backend(tmp_path):
    (tmp_path / "dir").mkdir()
    for path, kind in [(tmp_path / "h.sqlite", SqliteStore), (f"{tmp_path}/new/", JsonlStore),
                       (tmp_path / "dir", JsonlStore)]:
        with open_store(path, create=True) as store:
            assert isinstance(store, kind), path


def test_round_trip_in_time_order(tmp_path, store_path):
    runs = [a_run(tmp_path, i) for i in (2, 0, 1)]
    # A later instant written with another offset: ordered as a time, not as text.
    runs.append(a_run(tmp_path, 3))
    runs[-1]["started"] = "2026-01-01T01:03:00+01:00"
    with open_store(store_path, create=True) as store:
        assert all(store.append(r) for r in runs)
    with open_store(store_path) as store:
        back = store.runs()
        assert store.fingerprints() == [runs[0]["machine"]["fingerprint"]]
    assert back == [stored_run(r) for r in (runs[1], runs[2], runs[0], runs[3])]
    m = back[0].metrics[0]
    assert (m.name, m.unit, m.better, m.samples, m.median, m.runs) == \
        ("enum.n1000", "ms", "lower", (3.96, 4.0, 4.08), 4.0, (1, 2))
    assert back[0].metrics[1].runs is None


def test_a_new_store_makes_its_directory(tmp_path, store_path):
    deeper = store_path.replace(str(tmp_path), str(tmp_path / "reports" / "ci"))
    with open_store(deeper, create=True) as store:
        assert store.append(a_run(tmp_path, 0))
    with open_store(deeper) as store:
        assert len(store.runs()) == 1


def test_appending_a_run_twice_keeps_it_once(tmp_path, store_path):
    run = a_run(tmp_path, 0)
    with open_store(store_path, create=True) as store:
        assert store.append(run) is True
        assert store.append(run) is False
    with open_store(store_path, create=True) as store:
        assert store.append(json.loads(json.dumps(run))) is False
        assert len(store.runs()) == 1


def test_filters_by_fingerprint_and_metric_glob(tmp_path, store_path):
    with open_store(store_path, create=True) as store:
        store.append(a_run(tmp_path, 0, fingerprint="a" * 16))
        store.append(a_run(tmp_path, 1, fingerprint="b" * 16))
        assert store.fingerprints() == ["a" * 16, "b" * 16]
        only_b = store.runs(fingerprint="b" * 16, metric="rss.*")
        assert [(r.fingerprint, [m.name for m in r.metrics]) for r in only_b] == \
            [("b" * 16, ["rss.peak"])]
        assert store.runs(metric="nothing.*") == []


def test_both_backends_keep_the_same(tmp_path):
    runs = [a_run(tmp_path, i, level=4 + i) for i in range(4)]
    kept = []
    for path in (f"{tmp_path}/h.sqlite", f"{tmp_path}/h/"):
        with open_store(path, create=True) as store:
            for r in runs:
                store.append(r)
            kept.append((type(store), store.runs(metric="enum.*")))
    assert [k[0] for k in kept] == [SqliteStore, JsonlStore]
    assert kept[0][1] == kept[1][1] and len(kept[0][1]) == 4


class MemoryStore(Store):
    """A whole backend, to show how small the seam is (a PostgreSQL one is the same)."""
    def __init__(self):
        self.kept = {}

    def append(self, run):
        r = stored_run(run)
        return self.kept.setdefault(r.key, r) is r

    def runs(self, fingerprint=None, metric="*"):
        rs = sorted(self.kept.values(), key=lambda r: instant(r.started))
        rs = [r.only(metric) for r in rs if fingerprint in (None, r.fingerprint)]
        return [r for r in rs if r.metrics]

    def fingerprints(self):
        return sorted({r.fingerprint for r in self.kept.values()})


def test_another_backend_is_one_small_class(tmp_path):
    store = MemoryStore()
    for i in range(12):
        assert store.append(a_run(tmp_path, i, level=4.0 if i < 6 else 5.0))
    assert not store.append(a_run(tmp_path, 0))
    [enum] = trend.series(store.runs(metric="enum.*"))
    assert [c.index for c in changepoints.find(enum.medians).points] == [6]


def test_reading_never_makes_a_store(tmp_path):
    for path in (f"{tmp_path}/h.sqlite", f"{tmp_path}/h/"):
        with pytest.raises(StoreError, match="no such history"):
            open_store(path)
        assert not Path(path).exists()


def test_a_foreign_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    with pytest.raises(StoreError, match="not a readable history"):
        open_store(tmp_path / "notes.txt", create=True)
    db = sqlite3.connect(tmp_path / "other.sqlite")
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(StoreError, match="not a perfkit history"):
        open_store(tmp_path / "other.sqlite", create=True)


def test_a_bad_line_names_its_file_and_line(tmp_path):
    with open_store(f"{tmp_path}/h/", create=True) as store:
        store.append(a_run(tmp_path, 0, fingerprint="c" * 16))
    with open(tmp_path / "h" / ("c" * 16 + ".jsonl"), "a") as f:
        f.write("{half a line\n")
    with pytest.raises(StoreError, match=r"c{16}\.jsonl:2: not a stored run"):
        open_store(f"{tmp_path}/h/").runs()


# Change points, on generated series.

def noisy(n, seed, cv=0.03, level=100.0):
    return np.random.default_rng(seed).normal(level, level * cv, n)


@pytest.mark.parametrize("seed", range(10))
def test_a_clean_step_is_found_where_it_begins(seed):
    y = noisy(30, seed, cv=0.01)
    y[17:] *= 1.2
    found = changepoints.find(y)
    assert [c.index for c in found.points] == [17]
    c = found.points[0]
    assert c.relative == pytest.approx(0.2, abs=0.02)
    assert c.worse("lower") and not c.worse("higher")
    assert c.before == pytest.approx(100, rel=0.02) and c.after == pytest.approx(120, rel=0.02)


def test_the_step_names_its_revision():
    s = trend.Series("f" * 16, "enum", "ms", "higher", revisions=[f"rev{i}" for i in range(24)],
                     started=[f"t{i}" for i in range(24)], medians=list(noisy(24, 7, cv=0.01)))
    s.medians[10:] = [m * 1.2 for m in s.medians[10:]]
    [c] = trend.report(s)["change_points"]
    assert (c["index"], c["revision"], c["worse"]) == (10, "rev10", False)
    assert c["relative"] == pytest.approx(0.2, abs=0.02)


def test_noise_is_not_a_change():
    # 3 % CV, 500 seeds and lengths 6 to 100: at most 1 % may show a step.
    series = [noisy(n, seed) for seed in range(100) for n in (6, 10, 20, 50, 100)]
    false = sum(bool(changepoints.find(y).points) for y in series)
    assert false <= len(series) // 100, f"{false} of {len(series)} noise series had a step"


def test_two_steps_are_both_found():
    y = noisy(45, 3)
    y[15:] *= 1.25          # a regression...
    y[30:] /= 1.25          # ...fixed 15 runs later
    found = changepoints.find(y)
    assert [c.index for c in found.points] == [15, 30]
    assert [c.relative > 0 for c in found.points] == [True, False]


def test_a_short_bump_is_found_on_both_sides():
    y = noisy(30, 5, cv=0.01)
    y[12:16] *= 1.3
    assert [c.index for c in changepoints.find(y).points] == [12, 16]


def test_steps_below_the_floor_are_ignored():
    y = noisy(40, 1, cv=0.002)
    y[20:] *= 1.03          # real, but smaller than 5 %
    assert changepoints.find(y).points == []
    assert [c.index for c in changepoints.find(y, min_relative=0.02).points] == [20]


def test_a_series_that_never_moves_steps_cleanly():
    # An instruction count: no noise at all.
    y = [1000.0] * 8 + [1100.0] * 8
    [c] = changepoints.find(y).points
    assert (c.index, c.relative, c.p_value) == (8, pytest.approx(0.1), 0.0)
    assert changepoints.find([1000.0] * 16).points == []


def test_too_short_a_series_finds_none_and_says_so():
    found = changepoints.find([1.0, 1.0, 1.0, 2.0, 2.0])
    assert found.points == []
    assert "5 runs, too few" in found.note and "6" in found.note


def test_sparkline_shows_the_shape():
    assert trend.sparkline([1, 1, 2, 2]) == "▁▁██"
    assert trend.sparkline([3] * 5) == "▁▁▁▁▁"
    assert len(trend.sparkline(range(1000), width=40)) == 40
    assert trend.sparkline([1, 2], ascii_only=True) == "_@"


# The verb, end to end.

def perfkit(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "perfkit", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(HARNESS), **(env or {})})


def write_runs(tmp_path, levels):
    paths = []
    for i, level in enumerate(levels):
        run = a_run(tmp_path, i, level=level)
        paths.append(tmp_path / f"run{i:02d}.json")
        runfile.write_run(run, paths[-1])
    return paths


@pytest.mark.parametrize("store", ["history.sqlite", "history/"])
def test_add_then_show(tmp_path, store):
    files = write_runs(tmp_path, [4.0] * 10 + [4.8] * 10)
    r = perfkit("history", "add", *files, "--store", store, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "20 runs added" in r.stderr
    r = perfkit("history", "add", *files[:3], "--store", store, cwd=tmp_path)
    assert "0 runs added" in r.stderr and "3 already kept" in r.stderr
    r = perfkit("history", "show", "--store", store, "--json", "out.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("machine ")
    assert any("enum.n1000" in l and "20 runs" in l and "4 ms -> 4.8 ms" in l for l in lines)
    assert "step at run 11, 0010ababab:" in r.stdout and "+20.0 % (worse)" in r.stdout
    out = json.loads((tmp_path / "out.json").read_text())
    [enum] = [s for s in out["series"] if s["metric"] == "enum.n1000"]
    assert enum["runs"] == 20 and enum["unit"] == "ms"
    assert [(c["index"], c["revision"][:4], c["worse"]) for c in enum["change_points"]] == \
        [(10, "0010", True)]
    [rss] = [s for s in out["series"] if s["metric"] == "rss.peak"]
    assert rss["change_points"] == []


def test_show_filters_and_reads_the_environment(tmp_path):
    files = write_runs(tmp_path, [4.0] * 4)
    env = {"PERFKIT_HISTORY": str(tmp_path / "env.sqlite")}
    assert perfkit("history", "add", *files, cwd=tmp_path, env=env).returncode == 0
    assert (tmp_path / "env.sqlite").is_file() and not (tmp_path / "history.sqlite").exists()
    r = perfkit("history", "--metric", "rss.*", cwd=tmp_path, env=env)
    assert r.returncode == 0 and "rss.peak" in r.stdout and "enum" not in r.stdout
    assert "4 runs, too few for change points" in r.stdout
    r = perfkit("history", "--fingerprint", "0" * 16, cwd=tmp_path, env=env)
    assert r.returncode == 0 and r.stdout == ""
    assert "no runs stored" in r.stderr and "fingerprint 0000000000000000" in r.stderr


def test_no_history_yet_is_said_and_not_an_error(tmp_path):
    r = perfkit("history", "--json", "out.json", cwd=tmp_path)
    assert r.returncode == 0
    assert "no runs stored in history.sqlite" in r.stderr and "does not exist yet" in r.stderr
    assert json.loads((tmp_path / "out.json").read_text())["series"] == []
    assert not (tmp_path / "history.sqlite").exists()


@pytest.mark.parametrize("args, message", [
    (["add", "missing.json"], "missing.json: No such file or directory"),
    (["add", "notarun.json"], "notarun.json: not a perfkit.run/1 document"),
    (["add"], "name at least one run file"),
    (["show", "--store", "notarun.json"], "notarun.json: not a readable history"),
    (["show", "run00.json"], "did you mean history add"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    write_runs(tmp_path, [4.0])
    (tmp_path / "notarun.json").write_text(json.dumps({"schema": "other", "pad": "x" * 200}))
    r = perfkit("history", *args, cwd=tmp_path)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr


def test_a_bad_file_among_good_ones_adds_none(tmp_path):
    files = write_runs(tmp_path, [4.0, 4.0])
    r = perfkit("history", "add", files[0], "missing.json", files[1], cwd=tmp_path)
    assert r.returncode == 2
    assert not (tmp_path / "history.sqlite").exists()
