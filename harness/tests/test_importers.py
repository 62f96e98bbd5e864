"""`perfkit import` and `perfkit export` through the command line, on real
output of pytest-benchmark, wrk and hyperfine where they are installed, and
the generic formats (lines, metrics JSON, another run); every bad input ends
in exit 2 and one line. Also the scenario's benchmark formats that read them."""
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from perfkit import benchmarks, importers, runfile, scenario

HARNESS = Path(__file__).resolve().parent.parent
PY = "/usr/bin/python3"

pytestmark = pytest.mark.spawns  # tools, servers and perfkit itself, each cleaned up


def perfkit(*args, input=None, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(HARNESS)}
    return subprocess.run([PY, "-m", "perfkit", *map(str, args)], input=input, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def imported(*args, input=None):
    """Runs `perfkit import ARGS`, which must succeed; its metrics by name."""
    out = Path(args[args.index("-o") + 1])
    done = perfkit("import", *args, input=input)
    assert done.returncode == 0, done.stderr
    return {m["name"]: m for m in runfile.read_run(out)["metrics"]}


def refused(*args, input=None):
    """Runs `perfkit import ARGS`, which must refuse in one line; that line."""
    done = perfkit("import", *args, input=input)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("perfkit: import: "), done.stderr
    return lines[0]


# pytest-benchmark

@pytest.fixture
def bench_suite(tmp_path):
    """A pytest-benchmark suite of two benchmarks, run with its own pytest.ini
    (not this repository's); returns run(*options) -> its JSON output path."""
    pytest.importorskip("pytest_benchmark", reason="python3-pytest-benchmark not installed "
                        "(ci/install-deps.sh installs it)")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\n")
    (suite / "test_b.py").write_text(
        "def test_sum(benchmark):\n    benchmark(sum, range(100))\n\n"
        "def test_sorted(benchmark):\n"
        "    benchmark.pedantic(sorted, args=([3, 1, 2],), rounds=4, iterations=10)\n")
    count = iter(range(100))

    def run(*options):
        out = tmp_path / f"pb{next(count)}.json"
        subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_b.py",
                        "--benchmark-min-rounds=3", "--benchmark-max-time=0.01",
                        f"--benchmark-json={out}", *options],
                       cwd=suite, check=True, capture_output=True, timeout=120)
        return out
    return run


def test_pytest_benchmark_rounds_become_samples_each_file_a_process_run(bench_suite, tmp_path):
    first, second = bench_suite(), bench_suite()
    metrics = imported("pytest-benchmark", first, second, "-o", tmp_path / "r.json")
    doc = json.loads(first.read_text())
    sorted_ = metrics["pytest-benchmark.test_b.py::test_sorted"]
    assert sorted_["unit"] == "s" and sorted_["better"] == "lower"
    assert sorted_["runs"] == [4, 4]  # its 4 rounds, in each of the two pytest processes
    by_name = {b["name"]: b for b in doc["benchmarks"]}
    assert sorted_["samples"][:4] == by_name["test_sorted"]["stats"]["data"]
    summed = metrics["pytest-benchmark.test_b.py::test_sum"]
    assert len(summed["runs"]) == 2 and min(summed["runs"]) >= 3


def test_pytest_benchmark_aggregates_only_give_the_median_and_say_so(bench_suite, tmp_path):
    # --benchmark-save keeps only the aggregates unless --benchmark-save-data.
    bench_suite("--benchmark-save=agg", f"--benchmark-storage=file://{tmp_path}/store")
    (saved,) = (tmp_path / "store").glob("*/*_agg.json")
    done = perfkit("import", "pytest-benchmark", saved, "-o", tmp_path / "r.json",
                   "--prefix", "pb")
    assert done.returncode == 0, done.stderr
    assert "only aggregates" in done.stderr and "median" in done.stderr
    metrics = {m["name"]: m for m in runfile.read_run(tmp_path / "r.json")["metrics"]}
    medians = {b["name"]: b["stats"]["median"] for b in json.loads(saved.read_text())["benchmarks"]}
    assert metrics["pb.test_b.py::test_sorted"]["samples"] == [medians["test_sorted"]]


# wrk

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_server(tmp_path):
    """A loopback HTTP server on a free port, in this process's threads; shut
    down after the test, also when it fails."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("hello\n" * 100)
    handler = lambda *a: _Quiet(*a, directory=str(tmp_path / "www"))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def wrk(url, out, *options):
    if not shutil.which("wrk"):
        pytest.skip("wrk not installed (ci/install-deps.sh installs it)")
    done = subprocess.run(["wrk", "-t1", "-c2", "-d1s", *options, url], capture_output=True,
                          text=True, check=True, timeout=30)
    out.write_text(done.stdout)
    return out


def test_wrk_with_latency_two_runs(http_server, tmp_path):
    a = wrk(http_server, tmp_path / "a.txt", "--latency")
    b = wrk(http_server, tmp_path / "b.txt", "--latency")
    metrics = imported("wrk", a, b, "-o", tmp_path / "r.json", "--prefix", "web")
    rps = metrics["web.requests_per_s"]
    assert rps["unit"] == "1/s" and rps["better"] == "higher" and rps["runs"] == [1, 1]
    assert all(x > 10 for x in rps["samples"])
    assert metrics["web.transfer_bytes_per_s"]["samples"][0] > 100 * rps["samples"][0]
    assert metrics["web.errors"]["samples"] == [0, 0]
    p50, p99 = metrics["web.latency_p50"], metrics["web.latency_p99"]
    assert p50["unit"] == "ms" and p50["better"] == "lower"
    assert all(0 < lo <= hi < 1000 for lo, hi in zip(p50["samples"], p99["samples"]))


def test_wrk_without_latency_has_no_percentiles(http_server, tmp_path):
    metrics = imported("wrk", wrk(http_server, tmp_path / "a.txt"), "-o", tmp_path / "r.json")
    assert set(metrics) == {"wrk.requests_per_s", "wrk.transfer_bytes_per_s", "wrk.errors"}


def test_wrk_units_and_suffixes():
    # wrk's layout, with the units a slow or a fast server gives.
    text = """Running 10s test @ http://127.0.0.1:8080/
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us    1.10ms   1.20s    91.00%
    Req/Sec     6.51k     1.20k    9.00k    70.00%
  Latency Distribution
     50%  640.00us
     75%    1.02ms
     90%    1.50s
     99%    2.00m
  130000 requests in 10.00s, 1.50GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 5
Requests/sec:  13.00k
Transfer/sec:      1.50MB
"""
    by = {m["name"]: m["samples"][0] for m in importers.from_wrk(text)}
    assert by["wrk.requests_per_s"] == 13000
    assert by["wrk.transfer_bytes_per_s"] == 1.5 * 1024 * 1024
    assert by["wrk.latency_p50"] == pytest.approx(0.64)
    assert by["wrk.latency_p75"] == 1.02
    assert by["wrk.latency_p90"] == 1500
    assert by["wrk.latency_p99"] == 120_000
    assert by["wrk.errors"] == 10


# lines, metrics JSON, another run

def test_lines_from_stdin(tmp_path):
    text = ("# a tool's own figures\n\nparse 1.5 ms\nparse 1.7 ms  # again: a second sample\n"
            "rate 900 1/s\nrss 2048 bytes higher\n")
    metrics = imported("lines", "-", "-o", tmp_path / "r.json", "--prefix", "t", input=text)
    assert metrics["t.parse"]["samples"] == [1.5, 1.7] and metrics["t.parse"]["better"] == "lower"
    assert "runs" not in metrics["t.parse"]  # one process gave both
    assert metrics["t.rate"]["better"] == "higher"  # the default for 1/s
    assert metrics["t.rss"]["better"] == "higher"  # as the line says


def test_metrics_json_keeps_what_it_says(tmp_path):
    doc = {"metrics": [{"name": "cache.hit", "unit": "ratio", "better": "higher",
                        "samples": [0.9, 0.92], "portable": True, "threshold": 0.05},
                       {"name": "build", "unit": "s", "better": "lower", "samples": [1, 2, 3],
                        "runs": [1, 2]}]}
    (tmp_path / "m.json").write_text(json.dumps(doc))
    metrics = imported("metrics-json", tmp_path / "m.json", "-o", tmp_path / "r.json")
    assert metrics["cache.hit"]["portable"] is True and metrics["cache.hit"]["threshold"] == 0.05
    assert metrics["build"]["runs"] == [1, 2] and metrics["build"]["portable"] is False


def test_append_adds_process_runs_and_leaves_the_rest(tmp_path):
    out = tmp_path / "r.json"
    imported("lines", "-", "-o", out, input="a 1 ms\na 2 ms\nb 5 count\n")
    metrics = imported("lines", "-", "-o", out, "--append", input="a 3 ms\nc 1 s\n")
    assert metrics["a"]["samples"] == [1, 2, 3] and metrics["a"]["runs"] == [2, 1]
    assert "runs" not in metrics["b"] and metrics["c"]["samples"] == [1]


def test_a_run_file_imports_with_a_prefix(tmp_path):
    first = tmp_path / "first.json"
    imported("lines", "-", "-o", first, input="a 1 ms\n")
    metrics = imported("run", first, first, "-o", tmp_path / "r.json", "--prefix", "old")
    assert metrics["old.a"]["samples"] == [1, 1] and metrics["old.a"]["runs"] == [1, 1]


@pytest.mark.skipif(not shutil.which("hyperfine"), reason="hyperfine not installed")
def test_hyperfine_through_import(tmp_path):
    out = tmp_path / "hf.json"
    subprocess.run(["hyperfine", "--runs", "2", "--export-json", str(out), "--style", "none",
                    "true"], check=True, capture_output=True, timeout=60)
    metrics = imported("hyperfine", out, out, "-o", tmp_path / "r.json")
    assert metrics["hyperfine.true"]["runs"] == [1, 1, 1, 1]  # each run a process of its own


def test_google_benchmark_through_import(bin_dir, tmp_path):
    outs = []
    for i in range(2):
        outs.append(tmp_path / f"gb{i}.json")
        subprocess.run([bin_dir / "procfs_parsers_bench", "--benchmark_repetitions=2",
                        "--benchmark_min_time=0.01", f"--benchmark_out={outs[-1]}",
                        "--benchmark_out_format=json"], check=True, capture_output=True,
                       timeout=120)
    metrics = imported("google-benchmark", *outs, "-o", tmp_path / "r.json", "--prefix", "gb")
    assert metrics and all(m["runs"] == [2, 2] for m in metrics.values())
    assert all(name.startswith("gb.") for name in metrics)


# every bad input: exit 2, one line

def test_bad_input_is_one_line(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("a 1 ms\n")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "hf.json").write_text(json.dumps({"results": [{"command": "x", "times": [1]}]}))
    (tmp_path / "wrong.json").write_text(json.dumps({"metrics": [
        {"name": "a", "unit": "ms", "better": "faster", "samples": [1]}]}))
    out = tmp_path / "r.json"
    cases = [
        (("lines", tmp_path / "missing.txt", "-o", out), "missing.txt: No such file"),
        (("google-benchmark", tmp_path / "bad.json", "-o", out), "bad.json: not JSON"),
        (("google-benchmark", tmp_path / "hf.json", "-o", out), "not google-benchmark output"),
        (("pytest-benchmark", tmp_path / "hf.json", "-o", out), "not pytest-benchmark output"),
        (("wrk", good, "-o", out), "no Requests/sec"),
        (("metrics-json", tmp_path / "wrong.json", "-o", out), "metrics/0/better"),
        (("metrics-json", tmp_path / "hf.json", "-o", out), '{"metrics": [...]}'),
        (("run", tmp_path / "hf.json", "-o", out), "not a perfkit.run/1 document"),
        (("lines", good, "-o", out, "--append"), "--append: cannot read"),
        (("lines", good, "-o", tmp_path / "no" / "r.json"), "no directory"),
        (("lines", good, "-o", out, "--prefix", "a b"), "cannot write"),
        (("lines", "-", "-", "-o", out), "stdin"),
    ]
    for args, message in cases:
        assert message in refused(*args), args
    assert not out.exists()


@pytest.mark.parametrize("text, message", [
    ("a 1 ms\n\nb 2\n", "line 3: expected"),
    ("a one ms\n", "line 1: 'one' is not a number"),
    ("a nan ms\n", "line 1: 'nan' is not a number"),
    ("a 1 parsecs\n", "line 1: unit 'parsecs'"),
    ("a 1 ms faster\n", "line 1: 'faster'"),
    ("a 1 ms\na 1 s\n", "line 2: a was ms"),
    ("a@b 1 ms\n", "line 1: 'a@b'"),
    ("# only a comment\n", "no metrics"),
])
def test_malformed_lines_name_their_line(tmp_path, text, message):
    assert message in refused("lines", "-", "-o", tmp_path / "r.json", input=text)


def test_files_that_disagree_on_a_unit_are_refused(tmp_path):
    (tmp_path / "a.txt").write_text("x 1 ms\n")
    (tmp_path / "b.txt").write_text("x 1 s\n")
    line = refused("lines", tmp_path / "a.txt", tmp_path / "b.txt", "-o", tmp_path / "r.json")
    assert "x: ms" in line


def test_a_run_of_another_machine_is_refused(tmp_path):
    other = runfile.new_run(revision="x")
    other["machine"]["fingerprint"] = "0123456789abcdef"
    runfile.add_metrics(other, [runfile.metric("a", "ms", "lower", [1])])
    runfile.write_run(other, tmp_path / "other.json")
    assert "another machine" in refused("run", tmp_path / "other.json", "-o", tmp_path / "r.json")


# export

def test_export_bmf(tmp_path):
    run = runfile.new_run(revision="x")
    runfile.add_metrics(run, [runfile.metric("t", "ms", "lower", [3, 1, 2]),
                              runfile.metric("rps", "1/s", "higher", [10, 30]),
                              runfile.metric("rss", "bytes", "lower", [5])])
    runfile.write_run(run, tmp_path / "r.json")
    done = perfkit("export", "bmf", tmp_path / "r.json", "-o", tmp_path / "bmf.json")
    assert done.returncode == 0, done.stderr
    bmf = json.loads((tmp_path / "bmf.json").read_text())
    assert bmf["t"] == {"latency": {"value": 2e6, "lower_value": 1e6, "upper_value": 3e6}}
    assert bmf["rps"] == {"throughput": {"value": 20, "lower_value": 10, "upper_value": 30}}
    assert bmf["rss"] == {"bytes": {"value": 5, "lower_value": 5, "upper_value": 5}}
    stdout = perfkit("export", "bmf", tmp_path / "r.json")
    assert json.loads(stdout.stdout) == bmf


def test_export_of_a_bad_run_is_one_line(tmp_path):
    (tmp_path / "r.json").write_text("{}")
    for path in (tmp_path / "r.json", tmp_path / "missing.json"):
        done = perfkit("export", "bmf", path)
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr


# scenarios

def test_scenario_benchmarks_read_lines_and_metrics_json(tmp_path):
    for fmt in ("lines", "metrics-json", "wrk", "pytest-benchmark"):
        assert fmt in scenario.BENCH_FORMATS
    texts = ["a 1 ms\na 2 ms\n", "a 3 ms\n"]  # two repetitions: two process runs
    (m,) = benchmarks._import("lines", "p.b", tmp_path / "out.json", texts, [1.0, 1.0])
    assert m["name"] == "p.b.a" and m["samples"] == [1, 2, 3] and m["runs"] == [2, 1]
    doc = json.dumps({"metrics": [{"name": "x", "unit": "s", "better": "lower", "samples": [4]}]})
    (m,) = benchmarks._import("metrics-json", "p.b", tmp_path / "out.json", [doc], [1.0])
    assert m["name"] == "p.b.x" and m["samples"] == [4]
    with pytest.raises(benchmarks.RunError, match="p.b: its output is not lines: line 1"):
        benchmarks._import("lines", "p.b", tmp_path / "out.json", ["oops\n"], [1.0])


def test_a_scenario_pytest_benchmark_reads_its_out_file(bench_suite, tmp_path):
    out = bench_suite()
    metrics = benchmarks._import("pytest-benchmark", "p.b", out, [""], [1.0])
    assert {m["name"] for m in metrics} == {"p.b.test_b.py::test_sum", "p.b.test_b.py::test_sorted"}
