"""profiling/leakcheck.sh end to end: procmond under churn passes, and fails
with PROCMOND_DELIBERATE_LEAK_BYTES naming procmond::leak; any daemon given as
CMD (programs/grows.c: a cache that grows, freed at exit), one already
running (--pid, with heaptrack attached), a stop by SIGTERM mid-way, bad
arguments. Each wrapper runs in a session of its own, so that afterwards no
process of that session may be left (the daemon, heaptrack, the subscriber,
loadgen and its children)."""
import json
import os
import re
import signal
import subprocess
import time

import psutil
import pytest

from perfkit.importers.generic import from_metrics_json

SHORT = ["--round-seconds", "1", "--settle-seconds", "0.6"]


@pytest.fixture
def leakcheck(profiling_dir, bin_dir, spawn, tmp_path):
    """leakcheck(*args, env=None) -> (status, stdout, stderr, out_dir): the
    wrapper run to its end in a session of its own, checked to leave none of
    that session behind."""
    def run(*args, env=None, timeout=120):
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        p = spawn([str(profiling_dir / "leakcheck.sh"), "-o", str(out), *args],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                  start_new_session=True,
                  env={**os.environ, "PROCMOND_BUILD_DIR": str(bin_dir.parent), **(env or {})})
        stdout, stderr = p.communicate(timeout=timeout)
        assert_session_gone(p.pid)
        return p.returncode, stdout, stderr, out
    return run


def assert_session_gone(sid, wait_s=5.0):
    """No process of session `sid` lives (zombies of other parents aside,
    every one is reaped by now)."""
    deadline = time.monotonic() + wait_s
    while True:
        left = []
        for proc in psutil.process_iter(["pid", "name", "status"]):
            try:
                if os.getsid(proc.pid) == sid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    left.append(f"{proc.pid} {proc.info['name']}")
            except (ProcessLookupError, psutil.NoSuchProcess):
                pass
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not left, f"left behind by the wrapper: {left}"


def metrics_of(out):
    metrics = from_metrics_json((out / "metrics.json").read_text())  # validates
    return {m["name"]: m for m in metrics}


@pytest.mark.slow
def test_procmond_under_churn_does_not_grow(leakcheck):
    # Six rounds judged, not four: of three steps, a buffer that grew twice
    # (a level that moved twice) would already be more than half.
    status, stdout, stderr, out = leakcheck("--rounds", "8", "--warmup-rounds", "2", *SHORT)
    assert status == 0, stderr + stdout
    assert stdout.startswith("# leakcheck: pass, no steady growth over 8 rounds")
    assert stdout == (out / "summary.md").read_text()
    assert "loadgen run --count 300 --profile churn" in stdout
    metrics = metrics_of(out)
    assert set(metrics) == {"growth.rss_bytes_per_round", "growth.heap_bytes_per_round"}
    assert all(len(m["samples"]) == 5 for m in metrics.values())
    record = json.loads((out / "rounds.json").read_text())
    assert not psutil.pid_exists(record["pid"])
    # 3: loadgen shed starts on a busy machine (the summary says so); 1 would be a failure.
    assert all(r["loadgen_status"] in (0, 3) for r in record["rounds"]), record["rounds"]
    assert json.loads((out / "files.json").read_text())[0]["kind"] == "heaptrack"


@pytest.mark.slow
def test_procmond_with_a_deliberate_leak_fails_naming_it(leakcheck):
    status, stdout, stderr, out = leakcheck(
        "--rounds", "5", "--warmup-rounds", "1", "--prefix", "procmond", *SHORT,
        env={"PROCMOND_DELIBERATE_LEAK_BYTES": "256K"})
    assert status == 1, stderr + stdout
    assert stdout.startswith("# leakcheck: FAIL, RSS and heap in use grow from round to round")
    # 256 KiB each 200 ms cycle, rounds of about 1.7 s: 2.1 MB a round, give
    # or take the cycles a loaded machine delays across a round's end.
    metrics = metrics_of(out)
    for name in ("procmond.growth.rss_bytes_per_round", "procmond.growth.heap_bytes_per_round"):
        steps = metrics[name]["samples"]
        assert len(steps) == 3 and sorted(steps)[1] > 1e6, metrics[name]
    first_site = stdout.split("| site | called from |")[1].splitlines()[2]
    assert "`procmond::leak(...) (deliberate_leak.cpp:" in first_site
    # called from the cycle of whichever collector is in force (bpf as root, else /proc)
    assert re.search(r"`procmond::(bpf::BpfCollector|LinuxCollector)::collect\(\) "
                     r"\((bpf|linux)_collector\.cpp:", first_site), first_site


@pytest.mark.slow
def test_any_daemon_as_cmd_a_growing_cache_is_caught_though_freed_at_exit(leakcheck, compile_c):
    grows = compile_c("grows.c")
    status, stdout, stderr, out = leakcheck("--rounds", "5", "--warmup-rounds", "1", "--no-load",
                                            "--round-seconds", "0.5", "--settle-seconds", "0.4",
                                            "--", str(grows), "65536", "50")
    assert status == 1, stderr + stdout
    assert "heap in use grow" in stdout.splitlines()[0]
    assert "`keep_more (grows.c:24)` | `main (grows.c:" in stdout
    # 20 ticks a second of 64 KiB, rounds of about 0.9 s
    slope = metrics_of(out)["growth.heap_bytes_per_round"]["samples"]
    assert all(0.8e6 < s < 1.6e6 for s in slope), slope
    assert "without load" in stdout


@pytest.mark.slow
def test_a_busy_daemon_that_keeps_nothing_passes(leakcheck, compile_c):
    grows = compile_c("grows.c")
    status, stdout, stderr, _ = leakcheck("--rounds", "5", "--warmup-rounds", "1", "--no-load",
                                          "--round-seconds", "0.5", "--settle-seconds", "0.4",
                                          "--", str(grows), "0", "20")
    assert status == 0, stderr + stdout
    assert "heap in use**: flat" in stdout


ATTACH_KILLED = "ended while heaptrack attached to it"


def leakcheck_attached(leakcheck, spawn, argv, *options, tries=3):
    """leakcheck --pid --heaptrack on a fresh daemon `argv`: (daemon, status,
    stdout, stderr, out). heaptrack's injection can kill the process it
    attaches to (test_heaptrack.attach); leakcheck must then fail and say so,
    and a fresh daemon is tried."""
    for _ in range(tries):
        daemon = spawn(argv)
        status, stdout, stderr, out = leakcheck("--pid", str(daemon.pid), "--heaptrack", *options,
                                                timeout=180)
        if ATTACH_KILLED not in stderr:
            return daemon, status, stdout, stderr, out
        assert status == 1 and stdout == "" and daemon.wait(timeout=10) != 0, stderr
    pytest.fail(f"heaptrack's injection killed the daemon {tries} times running")


@pytest.mark.slow
def test_a_running_daemon_is_watched_and_left_running(leakcheck, compile_c, spawn):
    daemon, status, stdout, stderr, out = leakcheck_attached(
        leakcheck, spawn, [str(compile_c("grows.c")), "262144", "100"],
        "--rounds", "4", "--warmup-rounds", "1", "--round-seconds", "0.5", "--settle-seconds", "0.4")
    assert status == 1, stderr + stdout
    assert daemon.poll() is None, "the wrapper stopped a daemon it did not start"
    assert "RSS and heap in use grow" in stdout.splitlines()[0]
    assert "`keep_more (grows.c:24)`" in stdout
    assert metrics_of(out)["growth.rss_bytes_per_round"]["samples"][0] > 1e6


@pytest.mark.slow
def test_a_daemon_the_injection_kills_fails_the_check_in_one_line(leakcheck, compile_c, spawn):
    # Statically linked, grows has no dynamic loader for heaptrack's library:
    # the injection kills it.
    try:
        grows = compile_c("grows.c", "-static")
    except subprocess.CalledProcessError:
        pytest.skip("cannot link statically (libc6-dev's libc.a)")
    daemon = spawn([str(grows), "262144", "100"])
    status, stdout, stderr, out = leakcheck("--pid", str(daemon.pid), "--heaptrack",
                                            "--rounds", "4", "--warmup-rounds", "1", timeout=180)
    assert status == 1 and stdout == ""
    assert stderr.splitlines()[-1] == (
        "leakcheck.sh: heaptrack did not attach: perfkit: profile heaptrack-record: "
        f"process {daemon.pid} {ATTACH_KILLED}: nothing recorded")
    assert daemon.wait(timeout=10) != 0
    assert not (out / "rounds.json").exists()


@pytest.mark.slow
def test_sigterm_ends_the_rounds_and_judges_those_done(leakcheck, compile_c, profiling_dir,
                                                       bin_dir, tmp_path, spawn):
    grows = compile_c("grows.c")
    out = tmp_path / "stopped"
    p = spawn([str(profiling_dir / "leakcheck.sh"), "-o", str(out), "--rounds", "50",
               "--warmup-rounds", "1", "--no-load", "--round-seconds", "0.3",
               "--settle-seconds", "0.2", "--", str(grows), "0", "20"],
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
              env={**os.environ, "PROCMOND_BUILD_DIR": str(bin_dir.parent)})
    seen = ""
    while "round 5 of 50 done" not in seen:
        line = p.stderr.readline()
        assert line, f"the wrapper ended early: {seen}"
        seen += line
    p.send_signal(signal.SIGTERM)
    stdout, stderr = p.communicate(timeout=60)
    assert_session_gone(p.pid)
    assert p.returncode == 0, seen + stderr + stdout
    assert "Stopped early by SIGTERM: judged on the rounds done." in stdout
    rounds = json.loads((out / "rounds.json").read_text())["rounds"]
    assert 5 <= len(rounds) < 50


def test_a_daemon_that_dies_mid_way_is_no_verdict(leakcheck):
    status, stdout, stderr, out = leakcheck("--no-load", "--no-heaptrack", "--round-seconds", "0.5",
                                            "--", "sh", "-c", "sleep 1; exit 3")
    assert status == 1
    assert "exited during round" in stderr and "the rounds failed" in stderr
    assert not (out / "metrics.json").exists()


def test_procmond_refusing_a_bad_knob_is_said_in_its_words(leakcheck):
    status, _, stderr, _ = leakcheck("--rounds", "3", "--warmup-rounds", "0",
                                     env={"PROCMOND_DELIBERATE_LEAK_BYTES": "lots"})
    assert status == 1
    assert 'procmond did not come up' in stderr
    assert 'PROCMOND_DELIBERATE_LEAK_BYTES="lots": not a whole number of bytes' in stderr


@pytest.mark.parametrize("args, says", [
    (["--rounds", "4", "--warmup-rounds", "2"], "leaves 2 rounds to judge; a trend needs at least 3"),
    (["--tolerance", "lots"], "--tolerance: 'lots'"),
    (["--round-seconds", "0"], "--round-seconds: '0'"),
    (["--load", "--count 300 --profile sideways"], "loadgen refuses it"),
    (["--bogus"], "unknown option '--bogus'"),
    (["--rounds"], "--rounds needs a value"),
    (["--", "/nonexistent/daemon"], "'/nonexistent/daemon' is not a program to run"),
])
def test_bad_arguments_are_one_line_and_exit_2(leakcheck, args, says):
    status, stdout, stderr, out = leakcheck(*args, timeout=30)
    assert status == 2
    assert stderr.count("\n") == 1 and says in stderr, stderr
    assert not (out / "rounds.json").exists()


def test_help_states_the_rule(profiling_dir):
    r = subprocess.run([str(profiling_dir / "leakcheck.sh"), "--help"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0
    assert "Theil-Sen slope" in r.stdout and "more than half" in r.stdout
