"""perfkit.run/1: written, read back, refused when malformed; the machine's
fingerprint; and real output of Google Benchmark, hyperfine and loadgen read
into metrics."""
import json
import shutil
import subprocess

import pytest

from perfkit import importers, runfile
from perfkit.machine import machine


def a_run(**kwargs):
    run = runfile.new_run(revision="abc123", **kwargs)
    runfile.add_metrics(run, [
        runfile.metric("procmond.enumerate.n1000", "ms", "lower", [4.1, 4.0, 4.3], target=100),
        runfile.metric("collector.plain_vs_floor", "ratio", "lower", [1.02, 1.03],
                       portable=True, threshold=0.05),
    ])
    return run


def test_round_trip(tmp_path):
    run = a_run(scenario="smoke")
    runfile.write_run(run, tmp_path / "run.json")
    back = runfile.read_run(tmp_path / "run.json")
    assert back == run
    assert back["schema"] == "perfkit.run/1"
    assert back["metrics"][0]["samples"] == [4.1, 4.0, 4.3]
    assert back["metrics"][1]["portable"] is True
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("break_it, message", [
    (lambda r: r["metrics"][0].pop("unit"), "'unit' is a required property"),
    (lambda r: r["metrics"][0].update(better="faster"), "is not one of"),
    (lambda r: r["metrics"][0].update(samples=[]), "metrics/0/samples"),
    (lambda r: r.update(schema="perfkit.run/2"), "perfkit.run/1"),
    (lambda r: r["metrics"].append(dict(r["metrics"][0])), "metric names repeat"),
    (lambda r: r.update(started="yesterday"), "started"),
])
def test_malformed_runs_are_refused_with_where_and_why(tmp_path, break_it, message):
    run = a_run()
    break_it(run)
    with pytest.raises(runfile.RunFormatError, match=message):
        runfile.write_run(run, tmp_path / "run.json")
    assert not (tmp_path / "run.json").exists()


def test_reading_garbage_says_so(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(runfile.RunFormatError, match="not JSON"):
        runfile.read_run(tmp_path / "bad.json")


def test_fingerprint_is_stable_and_names_the_machine():
    a, b = machine(), machine()
    assert a["fingerprint"] == b["fingerprint"]
    assert len(a["fingerprint"]) == 16
    assert a["cores"] >= 1 and a["memory_bytes"] > 0 and a["kernel"]
    assert a["build"] != "unknown" and a["compiler"].startswith(("GNU", "Clang"))


def test_fingerprint_changes_with_the_build(tmp_path):
    cache = tmp_path / "CMakeCache.txt"
    cache.write_text("CMAKE_CXX_COMPILER:FILEPATH=/usr/bin/c++\nCMAKE_BUILD_TYPE:STRING=Debug\n")
    assert machine(tmp_path)["fingerprint"] != machine()["fingerprint"]


def test_google_benchmark_repetitions_become_samples(bin_dir, tmp_path):
    out = tmp_path / "gb.json"
    subprocess.run([bin_dir / "procfs_parsers_bench", "--benchmark_repetitions=3",
                    "--benchmark_min_time=0.01", f"--benchmark_out={out}",
                    "--benchmark_out_format=json"], check=True, capture_output=True)
    metrics = importers.from_google_benchmark(out, "parsers")
    assert metrics
    for m in metrics:
        assert m["name"].startswith("parsers.")
        assert len(m["samples"]) == 3  # the repetitions, not the aggregates
        assert m["unit"] in ("ns", "us", "ms", "s")
    run = runfile.add_metrics(runfile.new_run(revision="x"), metrics)
    runfile.validate(run)


def test_google_benchmark_counters_when_named():
    doc = {"benchmarks": [
        {"name": "Paired/1000", "run_name": "Paired/1000", "run_type": "iteration",
         "real_time": 30.0, "time_unit": "ms", "plain_vs_floor": 1.02},
        {"name": "Paired/1000", "run_name": "Paired/1000", "run_type": "iteration",
         "real_time": 31.0, "time_unit": "ms", "plain_vs_floor": 1.04},
        {"name": "Paired/1000_median", "run_name": "Paired/1000", "run_type": "aggregate",
         "real_time": 30.5, "time_unit": "ms", "plain_vs_floor": 1.03},
    ]}
    metrics = importers.from_google_benchmark(
        doc, "collector", counters={"plain_vs_floor": ("ratio", "lower", True)})
    by_name = {m["name"]: m for m in metrics}
    assert by_name["collector.Paired/1000"]["samples"] == [30.0, 31.0]
    ratio = by_name["collector.Paired/1000.plain_vs_floor"]
    assert ratio["samples"] == [1.02, 1.04] and ratio["portable"] is True


@pytest.mark.skipif(not shutil.which("hyperfine"), reason="hyperfine not installed "
                    "(ci/install-deps.sh installs it)")
def test_hyperfine_runs_become_samples(tmp_path):
    out = tmp_path / "hf.json"
    subprocess.run(["hyperfine", "--runs", "3", "--warmup", "1", "--export-json", str(out),
                    "--style", "none", "true"], check=True, capture_output=True)
    (m,) = importers.from_hyperfine(out)
    assert m["name"] == "hyperfine.true" and m["unit"] == "s" and len(m["samples"]) == 3


def test_loadgen_summaries_become_metrics(bin_dir, tmp_path):
    paths = []
    for i in range(2):
        p = tmp_path / f"lg{i}.json"
        subprocess.run([bin_dir / "loadgen", "run", "-n", "20", "-q", "--json", p], check=True,
                       capture_output=True)
        paths.append(p)
    metrics = importers.from_loadgen(paths)
    by_name = {m["name"]: m for m in metrics}
    rate = by_name["loadgen.steady.sleep.clone.rate_per_s"]
    assert rate["better"] == "higher" and len(rate["samples"]) == 2
    assert by_name["loadgen.steady.sleep.clone.peak_rss_bytes"]["unit"] == "bytes"
    # What it delivered, not what it was asked: lag against the schedule, starts shed.
    lag = by_name["loadgen.steady.sleep.clone.start_lag_p99"]
    assert lag["unit"] == "ms" and lag["better"] == "lower"
    assert all(0 <= x < 60_000 for x in lag["samples"])
    assert by_name["loadgen.steady.sleep.clone.shed"]["samples"] == [0, 0]
    runfile.validate(runfile.add_metrics(runfile.new_run(revision="x"), metrics))
    other = json.loads(paths[0].read_text()) | {"kind": "cpu"}
    with pytest.raises(ValueError, match="different configurations"):
        importers.from_loadgen([paths[0], other])


def test_the_revision_is_head_unless_pinned(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "--allow-empty", "-m", "first"], check=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()
    monkeypatch.delenv("PERFKIT_REVISION", raising=False)
    assert runfile.new_run(repo=tmp_path)["revision"] == head
    # What validate built, though a commit lands while it measures.
    monkeypatch.setenv("PERFKIT_REVISION", "built-one")
    assert runfile.new_run(repo=tmp_path)["revision"] == "built-one"
