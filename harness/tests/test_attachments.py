"""A run's attachments (series, profiles) stay findable from the run file when
it is imported into a run elsewhere, merged, or stored as a baseline."""
import os
import subprocess
import sys
from pathlib import Path

from perfkit import baselines, runfile
from perfkit.attachments import rebased, union
from perfkit.merge import merge_runs


def scenario_run(directory, name="sc"):
    run = runfile.new_run(revision="r1", scenario=name)
    runfile.add_metrics(run, [runfile.metric("idle.sut.peak_rss_bytes", "bytes", "lower", [1e6])])
    (directory / "s.npz").write_bytes(b"not read here")
    run["attachments"] = [{"kind": "series", "name": name, "path": "s.npz",
                           "phases": [{"name": "idle", "start_s": 0.0, "end_s": 1.0}]}]
    runfile.write_run(run, directory / "sc.run.json")
    return directory / "sc.run.json"


def test_import_of_a_run_carries_its_files_rebased_and_named_after_the_prefix(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "out").mkdir()
    src = scenario_run(tmp_path / "a")
    out = tmp_path / "out" / "run.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "perfkit", "import", "run", str(src), "--prefix",
                           "web", "-o", str(out)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = runfile.read_run(out)
    [att] = run["attachments"]
    assert att["name"] == "web" and att["path"] == "../a/s.npz"
    assert (out.parent / att["path"]).read_bytes() == b"not read here"
    assert att["phases"][0]["name"] == "idle"
    assert run["metrics"][0]["name"] == "web.idle.sut.peak_rss_bytes"


def test_rebasing_keeps_the_file_and_union_keeps_each_once(tmp_path):
    a = [{"kind": "series", "name": "x", "path": "s.npz"}]
    moved = rebased(a, tmp_path / "runs", tmp_path / "reports")
    assert moved == [{"kind": "series", "name": "x", "path": "../runs/s.npz"}]
    assert union(a, a, moved) == a + moved


def test_merged_runs_keep_every_file_and_a_baseline_none(tmp_path):
    (tmp_path / "a").mkdir()
    one = runfile.read_run(scenario_run(tmp_path / "a"))
    two = {**one, "attachments": [{**one["attachments"][0], "path": "t.npz"}]}
    merged = merge_runs([one, two])
    assert [a["path"] for a in merged["attachments"]] == ["s.npz", "t.npz"]
    path, _ = baselines.update([one, two], tmp_path / "baselines")
    assert "attachments" not in runfile.read_run(path)
