"""The runner's repetitions (`perfkit run --repetitions N`: each a fresh SUT,
each a process run in one run file; a failure or Ctrl-C in any writes
nothing) and benchmarks read from their own output (wrk, lines)."""
import os
import shutil
import signal
import subprocess

import pytest

from perfkit import runfile
from runner_support import HARNESS, PING, PY, scenario_text

pytestmark = pytest.mark.spawns


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk not installed "
                    "(ci/install-deps.sh installs it)")
def test_benchmarks_read_from_their_output(perfkit_cli):
    # An HTTP server as the SUT, wrk against it, and a tool that prints lines.
    p = perfkit_cli(f"""
name = "web"
[sut]
command = ["{PY}", "-m", "http.server", "--bind", "127.0.0.1", "{{port}}", "-d", "{HARNESS}"]
ready = {{ tcp = "127.0.0.1:{{port}}", timeout_s = 10 }}
[[phases]]
name = "load"
[[phases.benchmarks]]
name = "wrk"
command = ["wrk", "-t1", "-c2", "-d1s", "--latency", "http://127.0.0.1:{{port}}/README.md"]
format = "wrk"
repetitions = 2
[[phases.benchmarks]]
name = "tool"
command = ["{PY}", "-c", "print('parse 1.5 ms'); print('parse 1.6 ms')"]
format = "lines"
repetitions = 2
""")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    m = {x["name"]: x for x in runfile.read_run(perfkit_cli.out)["metrics"]}
    assert m["load.wrk.requests_per_s"]["runs"] == [1, 1]
    assert m["load.wrk.latency_p99"]["unit"] == "ms"
    assert m["load.tool.parse"]["samples"] == [1.5, 1.6, 1.5, 1.6]
    assert m["load.tool.parse"]["runs"] == [2, 2]


# A benchmark that repeats itself in one process, as Google Benchmark does:
# its samples of one repetition of the scenario are one process run.
# dict(), not braces: a scenario's command reads braces as placeholders.
FAKE_GBENCH = ("import json, sys; json.dump(dict(benchmarks=[dict(name='BM_x', "
               "run_type='iteration', time_unit='ns', real_time=5.0 + i) for i in "
               "range(int(sys.argv[2]))]), open(sys.argv[1], 'w'))")


def test_repetitions_restart_the_sut_and_keep_each_as_a_process_run(perfkit_cli, tmp_path):
    p = perfkit_cli(scenario_text(phases=f"""
[[phases]]
name = "idle"
seconds = 0.3
[[phases.benchmarks]]
name = "ping"
command = ["{PY}", "-c", "{PING}", "{{tmp}}/d.sock"]
repetitions = 2
[[phases.benchmarks]]
name = "gb"
format = "google-benchmark"
command = ["{PY}", "-c", "{FAKE_GBENCH}", "{{out}}", "{{repetitions}}"]
repetitions = 2
"""), "--repetitions", "3", "--series", tmp_path / "s.npz")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    run = runfile.read_run(perfkit_cli.out)
    m = {x["name"]: x for x in run["metrics"]}
    for name in ("idle.sut.peak_rss_bytes", "idle.sut.cpu_mean_percent", "run.sut.hwm_bytes"):
        assert len(m[name]["samples"]) == 3 and m[name]["runs"] == [1, 1, 1], m[name]
    assert m["idle.ping.seconds"]["runs"] == [1] * 6  # each ping a process of its own
    assert m["idle.gb.BM_x"]["samples"] == [5, 6] * 3 and m["idle.gb.BM_x"]["runs"] == [2, 2, 2]
    assert [(ph["name"], ph["repetition"]) for ph in run["phases"]] == \
        [("idle", 1), ("idle", 2), ("idle", 3)]
    assert sorted(f.name for f in tmp_path.glob("s.*")) == ["s.1.npz", "s.2.npz", "s.3.npz"]
    # Each series is attached, found from the run file's own directory, with its phases.
    atts = run["attachments"]
    assert [(a["kind"], a["repetition"]) for a in atts] == [("series", k) for k in (1, 2, 3)]
    for k, a in enumerate(atts, 1):
        assert (perfkit_cli.out.parent / a["path"]).resolve() == (tmp_path / f"s.{k}.npz")
        assert [ph["name"] for ph in a["phases"]] == ["idle"]
    for text in ("repetition 1/3", "repetition 2/3", "repetition 3/3"):
        assert text in err, err
    # Each repetition started a SUT of its own.
    assert err.count("ready in") == 3, err


def loaded_then_first_time(then, once):
    """A load for 0.3 s, then a client run until it exits that does `then`
    (Python) when the file `once` exists, and makes it: what a repetition after
    the first meets."""
    client = (f"import os, sys, time; p = sys.argv[1]; os.path.exists(p) and {then}; "
              "open(p, 'w').close()")
    return scenario_text(phases=f"""
[[phases]]
name = "loaded"
seconds = 0.3
load = {{ count = 20, kind = "sleep" }}

[[phases]]
name = "client"
command = ["{PY}", "-c", "{client}", "{once}"]
until = "exit"
seconds = 600
""")


def test_a_failed_repetition_fails_the_run_and_leaves_nothing(perfkit_cli, tmp_path):
    # The second repetition fails in its last phase, its load stood in the one before.
    p = perfkit_cli(loaded_then_first_time("sys.exit(3)", tmp_path / "once"),
                    "--repetitions", "3", "--series", tmp_path / "s.npz")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert "repetition 2/3" in err and "repetition 3/3" not in err, err
    assert "phase client: its command failed with status 3" in err, err
    assert not perfkit_cli.out.exists()
    assert list(tmp_path.glob("s.*")) == []  # the first repetition's series neither


def test_ctrl_c_in_a_later_repetition_stops_everything_and_writes_nothing(perfkit_cli,
                                                                            tmp_path):
    # The client hangs the second time, so the signal lands in repetition 2,
    # with its SUT and load standing.
    p = perfkit_cli(loaded_then_first_time("time.sleep(600)", tmp_path / "once"),
                    "--repetitions", "2", "--series", tmp_path / "s.npz")
    second = False
    for line in p.stderr:
        second = second or "repetition 2/2" in line
        if second and "phase client" in line:
            break
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGINT, err
    assert "interrupted by SIGINT" in err and "no run file written" in err, err
    assert not perfkit_cli.out.exists()
    assert list(tmp_path.glob("s.*")) == []  # nor repetition 1's series


@pytest.mark.parametrize("n", ["0", "-1", "two", "1.5"])
def test_a_bad_repetitions_count_is_one_line(n, tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_text())
    r = subprocess.run([PY, "-m", "perfkit", "run", path, "-o", tmp_path / "run.json",
                        "--repetitions", n], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(HARNESS)})
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        f"perfkit: run: --repetitions {n!r} is not a positive integer"], r.stderr
