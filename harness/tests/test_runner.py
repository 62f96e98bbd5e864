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
from pathlib import Path

import pytest

from perfkit import runfile, scenario

pytestmark = pytest.mark.spawns

HERE = Path(__file__).resolve().parent
HARNESS = HERE.parent
PY = "/usr/bin/python3"
DAEMON = HERE / "testdaemon.py"
PING = ("import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
        "s.sendall(b'ping'); assert s.recv(5).startswith(b'pong')")


def in_sessions(sids):
    """pids of living processes whose session id is one of `sids`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # state ppid pgrp session ...
            if fields[0] not in "ZX" and int(fields[3]) in sids:
                found.append(int(entry.name))
    return found


def marked(marker):
    """pids of living processes whose environment carries the marker."""
    needle = f"PERFKIT_TEST_MARKER={marker}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if needle in Path(entry.path, "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass  # gone, or a zombie
    return found


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def perfkit_cli(bin_dir, tmp_path):
    """Runs `python3 -m perfkit run` on a scenario text in a new session with a
    marker; afterwards asserts nothing carrying the marker lives on."""
    marker = uuid.uuid4().hex
    started = []
    # The runner's own directory (kept on failure, with its logs) goes in here,
    # not in /tmp; short, so a Unix socket path in it stays under 108 bytes.
    runs = tempfile.mkdtemp(prefix="pk")

    def _start(toml, *extra):
        path = tmp_path / "scenario.toml"
        path.write_text(toml)
        env = {**os.environ, "PERFKIT_TEST_MARKER": marker,
               "PYTHONPATH": str(HARNESS), "TMPDIR": runs}
        p = subprocess.Popen([PY, "-m", "perfkit", "run", path, "-o", tmp_path / "run.json",
                              "--build-dir", bin_dir.parent, *extra], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        started.append(p)
        return p

    _start.marker = marker
    _start.out = tmp_path / "run.json"
    yield _start
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    shutil.rmtree(runs, ignore_errors=True)
    left = marked(marker)
    # Assert after cleaning up, so a failing test leaves nothing either.
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"


def scenario_text(daemon_args="--mb 30", phases=None, sampling="hz = 100", ready_timeout=10):
    return f"""
name = "testdaemon"
[sut]
command = ["{PY}", "{DAEMON}", "{{tmp}}/d.sock", {", ".join(f'"{a}"' for a in daemon_args.split())}]
ready = {{ socket = "{{tmp}}/d.sock", timeout_s = {ready_timeout} }}
[sampling]
{sampling}
""" + (phases or """
[[phases]]
name = "idle"
seconds = 0.5
""")


FULL_PHASES = f"""
[[phases]]
name = "idle"
seconds = 0.5

[[phases]]
name = "loaded"
seconds = 1
load = {{ count = 20, kind = "sleep" }}
[[phases.benchmarks]]
name = "ping"
command = ["{PY}", "-c", "{PING}", "{{tmp}}/d.sock"]
repetitions = 2

[[phases]]
name = "client"
command = ["{PY}", "-c", "{PING}", "{{tmp}}/d.sock"]
until = "exit"
seconds = 30
"""


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


def test_sigkill_of_the_runner_takes_its_children_with_it(perfkit_cli):
    p = start_held_load(perfkit_cli)
    p.kill()  # the runner alone: its children are in sessions of their own
    p.wait()
    assert wait_until(lambda: not marked(perfkit_cli.marker), timeout=5), \
        marked(perfkit_cli.marker)


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


def test_a_literal_brace_is_written_twice():
    doc = {"name": "x", "sut": {"command": ["awk", "{{print $1}}", "{tmp}/f"],
                                "ready": {"delay_s": 1}}, "phases": [{"name": "p", "seconds": 1}]}
    s = scenario.parse(doc)
    assert scenario.expand(s.sut.command, scenario.Placeholders(tmp="/t")) == \
        ["awk", "{print $1}", "/t/f"]


def test_an_unknown_placeholder_is_named():
    with pytest.raises(scenario.ScenarioError, match=r"\{tmpdir\}"):
        scenario.expand(["{tmpdir}/x"], scenario.Placeholders(tmp="/t"))
