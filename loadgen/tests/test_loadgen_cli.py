"""loadgen as a user runs it: bad input, the limits it refuses, its JSON, and
nothing left behind after SIGINT, SIGTERM or SIGKILL, counted by session."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.spawns


def session_members(sid):
    """(living, zombies) of the processes whose session id is `sid`."""
    living = zombies = 0
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) != sid:
                continue
            if p.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                zombies += 1
            else:
                living += 1
        except (OSError, psutil.Error):
            pass  # gone while we looked
    return living, zombies


def wait_until(predicate, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def loadgen(bin_dir):
    """Starts loadgen in a new session (its pid is the session id) and makes
    sure, whatever the test does, that the session is empty afterwards."""
    started = []

    def _start(*args):
        p = subprocess.Popen([bin_dir / "loadgen", "run", *map(str, args)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        started.append(p)
        return p

    yield _start
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)  # our own session, by group
        p.wait()


def run_loadgen(bin_dir, *args):
    return subprocess.run([bin_dir / "loadgen", *map(str, args)], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args", [
    ["run", "--profile", "flat"],
    ["run", "--count", "0"],
    ["run", "--count", "ten"],
    ["run", "--kind", "cpu", "--cpu-share", "2"],
    ["run", "--kind", "cpu", "--spawner", "clone"],
    ["run", "--profile", "churn", "--churn-life-min", "2", "--churn-life-max", "1"],
    ["run", "--no-such-flag"],
    [],
])
def test_bad_arguments_exit_2_with_usage(bin_dir, args):
    r = run_loadgen(bin_dir, *args)
    assert r.returncode == 2, r
    assert r.stderr.strip()


def test_help_exits_0_and_names_every_profile_and_kind(bin_dir):
    r = run_loadgen(bin_dir, "run", "--help")
    assert r.returncode == 0
    for word in ("steady", "burst", "ramp", "spike", "churn", "sleep", "cpu", "mem", "tree",
                 "exec", "--json", "Exit status"):
        assert word in r.stdout


def test_refuses_more_processes_than_pid_max_before_spawning(bin_dir):
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    # A tree of depth 8 and fanout 16 is billions of processes, over any pid_max.
    r = run_loadgen(bin_dir, "run", "--kind", "tree", "--tree-depth", "8", "--tree-fanout", "16",
                    "--count", "1")
    assert r.returncode == 1
    assert f"kernel.pid_max is {pid_max}" in r.stderr
    assert "sysctl -w kernel.pid_max=" in r.stderr
    assert "spawned" not in r.stdout


def test_refuses_more_memory_than_is_available(bin_dir):
    r = run_loadgen(bin_dir, "run", "--kind", "mem", "--mem-bytes", str(1 << 50), "--count", "2")
    assert r.returncode == 1
    assert "MemAvailable is" in r.stderr


def test_refuses_more_cpu_burn_than_there_are_cores(bin_dir):
    r = run_loadgen(bin_dir, "run", "--kind", "cpu", "--cpu-share", "0.5", "--count",
                    2 * os.cpu_count() + 1)
    assert r.returncode == 1
    assert f"this machine has {os.cpu_count()} online" in r.stderr


def test_unwritable_json_path_is_refused_before_spawning(bin_dir, tmp_path):
    r = run_loadgen(bin_dir, "run", "--json", tmp_path / "no" / "such" / "dir" / "s.json")
    assert r.returncode == 1
    assert "cannot write --json" in r.stderr
    assert "spawned" not in r.stdout


def test_unwritable_ready_file_is_refused_before_spawning(bin_dir, tmp_path):
    r = run_loadgen(bin_dir, "run", "--ready-file", tmp_path / "no" / "dir" / "ready")
    assert r.returncode == 1
    assert "cannot write --ready-file" in r.stderr
    assert "spawned" not in r.stdout


def test_dry_run_prints_the_plan_and_spawns_nothing(bin_dir):
    r = run_loadgen(bin_dir, "run", "--profile", "churn", "--count", "10", "--duration", "2",
                    "--dry-run")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("plan: ")
    assert "spawned" not in r.stdout


def test_missing_helper_is_a_clear_error(bin_dir, tmp_path):
    r = run_loadgen(bin_dir, "run", "--kind", "cpu", "--helper", tmp_path / "nope")
    assert r.returncode == 1
    assert str(tmp_path / "nope") in r.stderr


@pytest.mark.parametrize("kind", ["sleep", "cpu", "mem", "tree", "exec"])
def test_json_summary_of_each_kind(bin_dir, tmp_path, kind):
    out = tmp_path / "summary.json"
    r = run_loadgen(bin_dir, "run", "--count", "40", "--kind", kind, "--duration", "0.3",
                    "--json", out, "--quiet")
    assert r.returncode == 0, r.stderr
    s = json.loads(out.read_text())
    assert s["asked"] == s["spawned"] == 40
    assert s["failed"] == {"count": 0, "reasons": {}}
    assert s["peak_live"] == 40
    assert s["reaped_in_teardown"] == 40
    assert 0 < s["spawn_latency_us"]["p50"] <= s["spawn_latency_us"]["p95"] \
        <= s["spawn_latency_us"]["p99"]
    assert s["spawn_seconds"] >= 0 and s["teardown_seconds"] > 0
    assert s["rate_per_s"] > 0
    assert s["peak_rss_bytes"] > 0
    assert s["spawner"] == ("clone" if kind == "sleep" else "zygote")
    assert "spawned  40 of 40 asked" in r.stdout


def wait_for_load(p, expected_living):
    ok = wait_until(lambda: session_members(p.pid)[0] >= expected_living or p.poll() is not None,
                    timeout=20)
    assert ok and p.poll() is None, f"load never came up: {session_members(p.pid)}"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("kind", ["sleep", "tree"])
def test_sigint_and_sigterm_tear_everything_down_and_print_the_summary(loadgen, sig, kind):
    # loadgen, its zygote (but for sleep), and 100 children (tree: 1 + 2 + 4 processes each).
    p = loadgen("--count", 100, "--kind", kind, "--duration", 3600, "--tree-depth", 2,
                "--tree-fanout", 2)
    expected = 1 + (100 if kind == "sleep" else 1 + 700)
    wait_for_load(p, expected)
    p.send_signal(sig)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 128 + sig
    assert f"interrupted by signal {int(sig)}" in out
    assert "spawned  100 of 100 asked" in out
    assert session_members(p.pid) == (0, 0)


@pytest.mark.parametrize("kind", ["sleep", "tree", "cpu"])
def test_sigkill_of_loadgen_takes_every_child_within_a_second(loadgen, kind):
    p = loadgen("--count", 200, "--kind", kind, "--duration", 3600, "--cpu-share", 0.001,
                "--tree-depth", 1, "--tree-fanout", 3)
    # loadgen, its zygote (but for sleep), and 200 children (tree: 4 processes each).
    expected = 1 + (0 if kind == "sleep" else 1) + 200 * (4 if kind == "tree" else 1)
    wait_for_load(p, expected)
    p.kill()
    p.wait()
    killed = time.monotonic()
    # Orphans are reaped by init, not by us; a zombie waiting for it is dead.
    gone = wait_until(lambda: session_members(p.pid)[0] == 0, timeout=1.0, step=0.01)
    elapsed = time.monotonic() - killed
    assert gone, f"{session_members(p.pid)[0]} still alive 1 s after SIGKILL"
    print(f"{kind}: every child gone {elapsed * 1000:.0f} ms after SIGKILL")


def test_progress_line_is_printed_while_it_runs(loadgen):
    p = loadgen("--count", 20, "--duration", 6)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "loadgen" in err and "spawned 20/20" in err  # not a tty: one line every 5 s


@pytest.mark.parametrize("profile", ["steady", "churn"])
def test_the_ready_file_appears_once_the_load_stands(loadgen, tmp_path, profile):
    ready = tmp_path / "ready.json"
    p = loadgen("--count", 300, "--profile", profile, "--duration", 3600, "--ready-file", ready,
                "--churn-life-min", 5, "--churn-life-max", 10)
    assert wait_until(lambda: ready.exists() or p.poll() is not None, timeout=20), "no ready file"
    assert p.poll() is None
    # By then the full count lives: loadgen and its 300 children, at least.
    assert json.loads(ready.read_text())["live"] >= 300
    assert session_members(p.pid)[0] >= 1 + 300
