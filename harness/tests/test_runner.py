"""The runner end to end, through its command line, against a small test
daemon: the run file it writes, and no process left behind after a run, a
failure, Ctrl-C or a SIGKILL of the runner. Every process the runner starts
carries a marker in its environment, so leftovers are found by that marker,
not by name."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import psutil
import pytest

from perfkit import runfile, scenario
from runner_support import (FULL_PHASES, HARNESS, PY, in_sessions, marked, scenario_text,
                            wait_until)

pytestmark = pytest.mark.spawns


def test_a_scenario_runs_end_to_end_and_leaves_nothing(perfkit_cli):
    p = perfkit_cli(scenario_text(phases=FULL_PHASES))
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    run = runfile.read_run(perfkit_cli.out)  # validates against the schema
    assert run["scenario"] == "testdaemon"
    assert [ph["name"] for ph in run["phases"]] == ["idle", "loaded", "client"]
    m = {x["name"]: x for x in run["metrics"]}
    assert m["idle.sut.peak_rss_bytes"]["samples"][0] >= 30 << 20
    assert m["idle.sut.cpu_mean_percent"]["unit"] == "percent"
    assert len(m["loaded.ping.seconds"]["samples"]) == 2
    assert "loaded.loadgen.steady.sleep.clone.spawn_seconds" in m
    assert m["client.command_seconds"]["samples"][0] > 0
    assert m["run.sut.hwm_bytes"]["samples"][0] >= 30 << 20
    # Progress per phase, and the table at the end.
    for text in ("[1/3] phase idle", "[2/3] phase loaded", "load up: 20 processes",
                 "[3/3] phase client", "RSS peak"):
        assert text in err, err


def test_descendants_are_sampled_as_a_tree_when_asked(perfkit_cli):
    p = perfkit_cli(scenario_text("--mb 10 --child-mb 40",
                                  sampling="hz = 50\nchildren = true\ntree_hz = 10"))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    m = {x["name"]: x["samples"][0] for x in runfile.read_run(perfkit_cli.out)["metrics"]}
    assert m["idle.sut.tree_peak_pss_bytes"] >= 50 << 20
    assert m["idle.sut.peak_rss_bytes"] < 40 << 20  # the root alone


def test_a_churn_load_is_held_for_its_phase(perfkit_cli):
    # The runner holds a load with --duration 1e9 and stops it at the phase's
    # end: a churn schedule computed whole for that long once grew to 16 GB.
    p = perfkit_cli(scenario_text(phases="""
[[phases]]
name = "churn"
seconds = "1500ms"
load = { count = 40, kind = "sleep", profile = "churn", churn_life_min = "50ms", churn_life_max = "150ms" }
"""))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    m = {x["name"]: x for x in runfile.read_run(perfkit_cli.out)["metrics"]}
    prefix = "churn.loadgen.churn.sleep.clone"
    assert m[f"{prefix}.churn_per_s"]["samples"][0] > 40  # lives replaced, not one set held
    assert m[f"{prefix}.start_lag_p99"]["unit"] == "ms"
    assert m[f"{prefix}.peak_rss_bytes"]["samples"][0] < 64 << 20


def start_held_load(perfkit_cli):
    """A run in a long phase with 50 loadgen children, returned once they are up."""
    p = perfkit_cli(scenario_text(phases="""
[[phases]]
name = "held"
seconds = 600
load = { count = 50, kind = "sleep" }
"""))
    for line in p.stderr:
        if "load up" in line:
            return p
    pytest.fail(f"the run ended before its load was up: {p.wait()}")


@pytest.mark.parametrize("signals", [[signal.SIGINT], [signal.SIGTERM], [signal.SIGHUP],
                                     [signal.SIGINT, signal.SIGINT]],
                         ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGINT-twice"])
def test_a_signal_stops_everything_and_writes_no_run_file(perfkit_cli, signals):
    p = start_held_load(perfkit_cli)
    assert len(marked(perfkit_cli.marker)) >= 50  # the daemon, loadgen and its children
    for sig in signals:  # a second Ctrl-C lands during the cleanup, which goes on
        p.send_signal(sig)
        time.sleep(0.02)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signals[0], err
    assert f"interrupted by {signals[0].name}" in err and "no run file written" in err
    assert not perfkit_cli.out.exists()
    assert marked(perfkit_cli.marker) == []


def test_sigint_after_the_cleanup_changes_nothing(perfkit_cli):
    p = start_held_load(perfkit_cli)
    p.send_signal(signal.SIGINT)
    for line in p.stderr:
        if "no run file written" in line:
            break
    p.send_signal(signal.SIGINT)  # the runner has cleaned up and is on its way out
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGINT, err
    assert marked(perfkit_cli.marker) == []


DAEMONIZED = dict(daemon_args="--mb 30 --daemonize {tmp}/d.pid --stray",
                  ready='pidfile = "{tmp}/d.pid", socket = "{tmp}/d.sock"')


def held(text_args):
    return scenario_text(**text_args, phases="""
[[phases]]
name = "held"
seconds = 600
""")


@pytest.mark.parametrize("who", ["warden", "runner"])
@pytest.mark.parametrize("sut", [{}, DAEMONIZED], ids=["child", "daemon"])
def test_sigkill_of_the_runner_takes_everything_with_it(perfkit_cli, who, sut):
    # `perfkit run` is two processes: the warden (what a user starts) and the
    # runner it forked. SIGKILL either; the run's processes all go, a daemon
    # that forked away and a stray that left by setsid and a double fork too.
    if sut:
        p = perfkit_cli(held(sut))
        for line in p.stderr:
            if "[1/1] phase held" in line:
                break
    else:
        p = start_held_load(perfkit_cli)
    assert len(marked(perfkit_cli.marker)) >= (4 if sut else 50)
    victim = psutil.Process(p.pid)
    if who == "runner":
        victim = victim.children()[0]
    victim.kill()
    assert wait_until(lambda: not marked(perfkit_cli.marker), timeout=10), \
        marked(perfkit_cli.marker)
    if who == "runner":  # the warden says so and ends as the runner did
        _, err = p.communicate(timeout=30)
        assert p.returncode == 128 + signal.SIGKILL, err
        assert "runner was killed by signal 9" in err, err


def test_a_daemonizing_sut_is_followed_through_its_pidfile(perfkit_cli):
    # The first process exits 0 once it has forked; the run samples the daemon
    # the pidfile names, and stops it, its stray and everything at the end.
    p = perfkit_cli(scenario_text(**DAEMONIZED))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    m = {x["name"]: x["samples"][0] for x in runfile.read_run(perfkit_cli.out)["metrics"]}
    assert m["idle.sut.peak_rss_bytes"] >= 30 << 20  # the daemon, not its exited launcher
    assert "stopped (status 0)" in err, err


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")
def test_redis_daemonize_yes_is_followed_and_stopped(perfkit_cli, tmp_path):
    # redis-server rewrites its process title over its environment, so it is
    # told apart by the pidfile (here outside the run's directory, which goes).
    pidfile = tmp_path / "redis.pid"
    p = perfkit_cli(f"""
name = "redisd"
[sut]
command = ["redis-server", "--daemonize", "yes", "--pidfile", "{pidfile}", "--bind", "127.0.0.1",
           "--port", "{{port}}", "--save", "", "--appendonly", "no", "--dir", "{{tmp}}"]
ready = {{ pidfile = "{pidfile}", tcp = "127.0.0.1:{{port}}", timeout_s = "10s" }}
[sampling]
children = true
[[phases]]
name = "idle"
seconds = "500ms"
""")
    for line in p.stderr:
        if "ready in" in line:
            break
    daemon = psutil.Process(int(pidfile.read_text()))
    runner = psutil.Process(p.pid).children()[0]  # the warden's one child
    assert daemon.name() == "redis-server" and daemon.ppid() == runner.pid  # adopted
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert not daemon.is_running(), err
    m = {x["name"]: x["samples"][0] for x in runfile.read_run(perfkit_cli.out)["metrics"]}
    assert m["idle.sut.peak_rss_bytes"] > 1 << 20  # redis-server's, not a launcher's


def test_a_daemonizing_sut_without_a_pidfile_fails_and_leaves_nothing(perfkit_cli):
    p = perfkit_cli(scenario_text("--daemonize {tmp}/d.pid --stray"))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert "exited (status 0) before it was ready" in err and "pidfile" in err, err


def test_a_stray_that_left_by_setsid_is_stopped_at_the_end(perfkit_cli):
    p = perfkit_cli(scenario_text("--stray"))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0, err  # and the fixture finds nothing left


@pytest.mark.parametrize("how, message", [
    ("abort", "died by SIGABRT when stopped with SIGTERM"),
    ("exit5", "exited with status 5 when stopped with SIGTERM"),
    ("hang", "did not stop within 0.5 s of SIGTERM"),
])
def test_a_sut_that_ends_badly_at_its_stop_fails_the_run(perfkit_cli, how, message):
    p = perfkit_cli(scenario_text(f"--at-stop {how}", sut='stop_timeout_s = "500ms"'))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert message in err, err
    assert not perfkit_cli.out.exists()


def test_a_missing_setpriv_is_one_line_and_leaves_no_directory(bin_dir, tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_text())
    runs = tmp_path / "runs"
    runs.mkdir()
    empty = tmp_path / "bin"  # a PATH without setpriv (nor git: the revision is then unknown)
    empty.mkdir()
    r = subprocess.run([PY, "-m", "perfkit", "run", path, "-o", tmp_path / "run.json",
                        "--build-dir", bin_dir.parent], capture_output=True, text=True,
                       timeout=60, env={"PATH": str(empty), "PYTHONPATH": str(HARNESS),
                                        "TMPDIR": str(runs)})
    assert r.returncode == 1, r.stderr
    assert r.stderr.splitlines() == [
        "perfkit: testdaemon: setpriv (util-linux) is missing: it makes every child die with "
        "the runner; apt-get install util-linux"], r.stderr
    assert list(runs.iterdir()) == []


def test_a_daemon_that_dies_mid_run_fails_the_run(perfkit_cli):
    p = perfkit_cli(scenario_text("--die-after 0.5", phases="""
[[phases]]
name = "long"
seconds = 30
"""))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert "exited (status 3) during phase long" in err, err
    assert not perfkit_cli.out.exists()


def test_a_daemon_never_ready_fails_with_its_output(perfkit_cli):
    p = perfkit_cli(scenario_text("--no-listen", ready_timeout=0.5))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert "not ready within 0.5 s" in err, err


def test_a_failing_benchmark_fails_the_run(perfkit_cli):
    p = perfkit_cli(scenario_text(phases=f"""
[[phases]]
name = "bad"
[[phases.benchmarks]]
name = "false"
command = ["{PY}", "-c", "import sys; print('it broke'); sys.exit(4)"]
"""))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert "benchmark bad.false failed with status 4" in err and "it broke" in err, err


@pytest.mark.parametrize("phase, message", [
    ("""[[phases.benchmarks]]
name = "slow"
command = ["/bin/sleep", "30"]
timeout_s = 0.5""", "benchmark stuck.slow ran past its timeout_s of 0.5 s"),
    ("""command = ["/bin/sleep", "30"]
until = "exit"
seconds = 0.5""", "phase stuck: its command ran past 0.5 s"),
])
def test_what_runs_too_long_fails_the_run(perfkit_cli, phase, message):
    p = perfkit_cli(scenario_text(phases=f"[[phases]]\nname = \"stuck\"\n{phase}\n"))
    _, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert message in err, err


@pytest.mark.parametrize("doc, message", [
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}}}, "'phases' is required"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}}, "phases": [
        {"name": "p", "seconds": 1, "sconds": 2}]}, "unknown key 'sconds'"),
    ({"name": "x", "sut": {"command": [], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": 1}]}, "sut.command"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"tcp": "10.0.0.1:80"}},
      "phases": [{"name": "p", "seconds": 1}]}, "loopback"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {}},
      "phases": [{"name": "p", "seconds": 1}]}, "say how to tell it is ready"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "until": "exit"}]}, "needs a command"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "benchmarks": [{"name": "b", "command": ["gb"],
                                               "format": "google-benchmark"}]}]}, "{out}"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": 1, "load": {"count": 10, "colour": "red"}}]},
     "unknown key 'colour'"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "sampling": {"hz": 50000}, "phases": [{"name": "p", "seconds": 1}]}, "sampling.hz"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}, "stop_signal": "SIGFOO"},
      "phases": [{"name": "p", "seconds": 1}]}, "not a signal name"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": 1}, {"name": "q", "command": ["b", "{tmpdir}/x"]}]},
     "phases[1].command: unknown placeholder {tmpdir}"),
    ({"name": "x", "sut": {"command": ["awk", "{print $1}"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": 1}]}, "sut.command"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"tcp": "127.0.0.1:{prt}"}},
      "phases": [{"name": "p", "seconds": 1}]}, "sut.ready.tcp: unknown placeholder {prt}"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": 1, "load": {"count": 10, "profile": "ramp"}}]},
     "standing load"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": "2 secs"}},
      "phases": [{"name": "p", "seconds": 1}]},
     "sut.ready.delay_s: '2 secs' is not a duration: write seconds (2, 0.5) or a number with "
     "ms, s, m or h (\"500ms\", \"2s\", \"1m\")"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": True}]}, "phases[0].seconds: True is not a duration"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": "-2s"}]}, "phases[0].seconds: '-2s' is not a duration"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
      "phases": [{"name": "p", "seconds": 1, "load": {"count": 10, "profile": "churn",
                                                     "churn_life_min": "1d"}}]},
     "phases[0].load.churn_life_min: '1d' is not a duration"),
    ({"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}, "stop_timeout_s": "0s"},
      "phases": [{"name": "p", "seconds": 1}]}, "sut.stop_timeout_s: must be > 0"),
])
def test_a_bad_scenario_is_refused_naming_the_key(doc, message):
    with pytest.raises(scenario.ScenarioError, match=None) as e:
        scenario.parse(doc)
    assert message in str(e.value)


SHIPPED = sorted((HARNESS / "scenarios").glob("*.toml"))


def shortened(s):
    """The scenario with its phases cut to seconds, its loads to 50 processes,
    and its benchmarks to two repetitions of small work: the same commands,
    readiness and formats, in a few seconds."""
    for phase in s.phases:
        phase.seconds = min(phase.seconds, 0.5)
        if phase.load:
            phase.load["count"] = min(phase.load["count"], 50)
        for bench in phase.benchmarks:
            bench.repetitions = min(bench.repetitions, 2)
            bench.command = [a.replace("100000", "2000") for a in bench.command]
    return s


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_each_shipped_scenario_runs_shortened(path, bin_dir, monkeypatch, tmp_path):
    from perfkit import processes
    from perfkit.runner import Progress, run_scenario
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the run's logs, if it fails
    marker = uuid.uuid4().hex
    monkeypatch.setenv("PERFKIT_TEST_MARKER", marker)  # inherited by all it starts
    # Each child starts a session of its own (its pid); redis-server rewrites its
    # environment (its process title), so the sessions are checked too.
    sessions = set()
    real_start = processes.Children.start

    def start(self, *args, **kwargs):
        child = real_start(self, *args, **kwargs)
        sessions.add(child.pid)
        return child
    monkeypatch.setattr(processes.Children, "start", start)
    s = shortened(scenario.load(path))
    try:
        run = run_scenario(s, build_dir=bin_dir.parent, repo=HARNESS.parent,
                           progress=Progress(quiet=True))
    finally:
        left = sorted(set(marked(marker) + in_sessions(sessions)))
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert sessions and not left, f"left behind: {left}"
    runfile.validate(run)
    names = {m["name"] for m in run["metrics"]}
    for phase in s.phases:
        assert f"{phase.name}.sut.cpu_mean_percent" in names or not phase.seconds
        for bench in phase.benchmarks:
            assert any(n.startswith(f"{phase.name}.{bench.name}.") for n in names), bench.name
        if phase.load:
            assert any(n.startswith(f"{phase.name}.loadgen.") for n in names)


def test_cli_exit_codes_for_bad_input(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(HARNESS)}
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    r = subprocess.run([PY, "-m", "perfkit", "run", bad, "-o", tmp_path / "r.json"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "not TOML" in r.stderr
    r = subprocess.run([PY, "-m", "perfkit", "run", tmp_path / "none.toml", "-o", "x"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "No such file" in r.stderr
    r = subprocess.run([PY, "-m", "perfkit", "--help"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "run" in r.stdout


@pytest.mark.parametrize("written, seconds", [
    (2, 2.0), (0.5, 0.5), ("2", 2.0), ("500ms", 0.5), ("2s", 2.0), ("1.5s", 1.5), ("1m", 60.0),
    ("1h", 3600.0), (".25s", 0.25), ("10 ms", 0.01)])
def test_durations_take_units_everywhere(written, seconds):
    doc = {"name": "x", "sut": {"command": ["a"], "stop_timeout_s": written,
                                "ready": {"delay_s": written, "timeout_s": written}},
           "phases": [{"name": "p", "seconds": written, "load_ready_timeout_s": written,
                       "load": {"count": 1, "profile": "churn", "churn_life_min": written,
                                "churn_life_max": written},
                       "benchmarks": [{"name": "b", "command": ["b"], "timeout_s": written}]}]}
    s = scenario.parse(doc)
    phase = s.phases[0]
    assert [s.sut.stop_timeout_s, s.sut.ready.delay_s, s.sut.ready.timeout_s, phase.seconds,
            phase.load_ready_timeout_s, phase.load["churn_life_min"],
            phase.load["churn_life_max"], phase.benchmarks[0].timeout_s] == [seconds] * 8


def test_the_sampler_bench_takes_durations_as_scenarios_do():
    r = subprocess.run([PY, HARNESS / "bench" / "sampler_bench.py", "--seconds", "2x"],
                       capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(HARNESS)})
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1].endswith(
        "argument --seconds: '2x' is not a duration: write seconds (2, 0.5) or a number with "
        "ms, s, m or h (\"500ms\", \"2s\", \"1m\")"), r.stderr


def test_a_literal_brace_is_written_twice():
    doc = {"name": "x", "sut": {"command": ["awk", "{{print $1}}", "{tmp}/f"],
                                "ready": {"delay_s": 1}}, "phases": [{"name": "p", "seconds": 1}]}
    s = scenario.parse(doc)
    assert scenario.expand(s.sut.command, scenario.Placeholders(tmp="/t")) == \
        ["awk", "{print $1}", "/t/f"]


def test_an_unknown_placeholder_is_named():
    with pytest.raises(scenario.ScenarioError, match=r"\{tmpdir\}"):
        scenario.expand(["{tmpdir}/x"], scenario.Placeholders(tmp="/t"))
