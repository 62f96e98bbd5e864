"""perfkit.Sampler against children that do known things."""
import ctypes
import os
import shutil
import subprocess
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.spawns

import perfkit  # noqa: E402  (pyproject puts harness/ on the path)

PY = "/usr/bin/python3"


def python_child(spawn, code):
    """A Python child running `code` after printing 'ready' (its imports done)."""
    p = spawn([PY, "-c", "import sys\n" + textwrap.dedent(code)], stdout=subprocess.PIPE,
              text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def test_a_child_that_touches_200_mb_peaks_at_least_that(spawn):
    # The child holds the block from "go" to "free", both sent once the
    # sampler runs, so no start-up delay of ours can miss the window.
    child = spawn([PY, "-c", textwrap.dedent("""
        import sys, time
        print("ready", flush=True)
        sys.stdin.readline()
        block = bytearray(200 << 20)   # zeroed, so every page is touched
        print("held", flush=True)
        sys.stdin.readline()
        del block
        print("freed", flush=True)
        time.sleep(3600)
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    with perfkit.Sampler(child.pid, hz=100) as s:
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "held"
        time.sleep(0.5)  # about 50 samples while it holds the block
        child.stdin.write("free\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "freed"
    summary = s.summary()
    # The samples on their own, then the summary's peak, which also takes in
    # the kernel's VmHWM.
    assert s.series()["rss_bytes"].max() >= 200 << 20
    assert summary["peak_rss_bytes"] >= 200 << 20
    assert summary["hwm_bytes"] >= 200 << 20
    assert summary["samples"] >= 50


def test_a_child_that_burns_one_core_shows_about_100_percent(spawn):
    child = python_child(spawn, """
        print("ready", flush=True)
        while True:
            pass
    """)
    # On a shared machine the burner gets what the others leave it: compare
    # with the kernel's own tick count over the same second (psutil), not 100.
    proc = psutil.Process(child.pid)
    before, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
    with perfkit.Sampler(child.pid, hz=200) as s:
        time.sleep(1.0)
    theirs = 100 * (sum(proc.cpu_times()[:2]) - before) / (time.monotonic() - t0)
    summary = s.summary()
    # 10 ms ticks over a second, and windows a few ms apart: a few points either way.
    assert abs(summary["cpu_mean_percent"] - theirs) <= 5 + 0.05 * theirs, (summary, theirs)
    assert summary["cpu_mean_percent"] > 20, summary  # it does burn
    assert summary["cpu_max_percent"] <= 110, summary  # one thread cannot use more than a core


def test_an_idle_child_shows_almost_no_cpu(spawn):
    child = spawn(["/bin/sleep", "3600.25"])
    time.sleep(0.05)
    with perfkit.Sampler(child.pid, hz=100) as s:
        time.sleep(0.5)
    assert s.summary()["cpu_mean_percent"] < 2


def test_a_child_that_exits_mid_run_ends_its_series(spawn):
    child = spawn(["/bin/sleep", "0.3"])
    with perfkit.Sampler(child.pid, hz=100) as s:
        child.wait()
        time.sleep(0.2)
    summary = s.summary()
    assert summary["exited"] is True
    assert 0.1 < summary["exit_t"] < 1.0


def test_a_pid_that_does_not_exist_raises_process_lookup_error():
    with pytest.raises(ProcessLookupError):
        perfkit.Sampler(0x3FFFFFFF)


def test_series_are_numpy_views_that_outlive_nothing_they_need(spawn):
    child = spawn(["/bin/sleep", "3600.5"])
    time.sleep(0.05)
    s = perfkit.Sampler(child.pid, hz=100)
    with s:
        time.sleep(0.2)
    cols = s.series()
    assert set(cols) >= {"t", "rss_bytes", "cpu_ns", "threads", "open_fds"}
    assert cols["rss_bytes"].base is not None  # a view of the sampler's storage, not a copy
    assert cols["open_fds"][-1] == psutil.Process(child.pid).num_fds()  # fd 0 counted too
    del s
    assert cols["t"][0] >= 0  # the view keeps the sampler alive


# A C call through ctypes.PyDLL keeps the GIL for its whole length.
hold_the_gil_for_us = ctypes.PyDLL(None).usleep


class PythonSampler(threading.Thread):
    """The control: a sampler that needs the GIL at each tick (it is Python)."""

    def __init__(self, hz):
        super().__init__(daemon=True)
        self.period, self.t, self.stopped = 1 / hz, [], threading.Event()
        self.t0 = time.monotonic()

    def run(self):
        while not self.stopped.wait(self.period):
            self.t.append(time.monotonic() - self.t0)


def samples_while_the_gil_is_held(sampler, times):
    """Starts the sampler, holds the GIL 0.5 s, stops it; how many samples it
    took well inside the hold (0.1 s to 0.4 s after its start)."""
    sampler.start()
    hold_the_gil_for_us(500_000)
    stop = getattr(sampler, "stop", None) or sampler.stopped.set
    stop()
    return sum(1 for t in times(sampler) if 0.1 < t < 0.4)


def test_the_gil_is_free_while_it_samples(spawn):
    # The main thread holds the GIL for half a second: a sampler that took the
    # GIL at any tick, even briefly, would take no sample meanwhile. The
    # control, a Python sampler, shows that this is seen.
    child = spawn(["/bin/sleep", "3600.75"])
    time.sleep(0.05)
    native = samples_while_the_gil_is_held(perfkit.Sampler(child.pid, hz=200),
                                           lambda s: s.series()["t"])
    control = PythonSampler(hz=200)
    python = samples_while_the_gil_is_held(control, lambda s: list(s.t))
    control.join()
    assert python == 0, python  # the method sees a sampler that needs the GIL
    # 60 deadlines in the 0.3 s (60 taken on an idle machine); one that needs
    # the GIL takes none, whatever the load, so a low bar still decides and a
    # machine loaded a hundred times over (seen here) cannot starve it below.
    assert native >= 5, native


def test_bad_rates_are_value_errors():
    with pytest.raises(ValueError):
        perfkit.Sampler(1, hz=0)


def tree_root(spawn, script):
    """A shell in its own session running `script` (its children stay in the
    session, so teardown kills them all); returns once the shell has started."""
    root = spawn(["/bin/sh", "-c", script], start_new_session=True)
    time.sleep(0.05)
    return root


HOLD_50MB = (f"{PY} -c 'import time; b = bytearray(50 << 20); print(flush=True); "
             "time.sleep(3600)'")


def test_descendants_are_counted_when_asked(spawn):
    root = tree_root(spawn, " ".join([HOLD_50MB + " &"] * 4) + " wait")
    psutil_root = psutil.Process(root.pid)
    deadline = time.monotonic() + 10
    while len(psutil_root.children()) < 4 or any(
            c.memory_info().rss < 50 << 20 for c in psutil_root.children()):
        assert time.monotonic() < deadline, "the four children did not fill their memory"
        time.sleep(0.05)
    with perfkit.Sampler(root.pid, hz=50, children=True, tree_hz=5) as s:
        time.sleep(0.5)
    summary = s.summary()
    assert summary["tree_procs_max"] == 5
    assert summary["tree_peak_pss_bytes"] >= 4 * (50 << 20)
    assert summary["tree_peak_uss_bytes"] >= 4 * (50 << 20)
    assert summary["peak_rss_bytes"] < 20 << 20  # the shell alone
    # Without children=True the tree is not sampled at all.
    with perfkit.Sampler(root.pid, hz=50) as alone:
        time.sleep(0.1)
    assert "tree_peak_pss_bytes" not in alone.summary()


def test_a_child_started_by_another_thread_is_found(spawn):
    # /proc/PID/task/TID/children lists the children of that thread only: a
    # process with several threads has each thread's list read.
    root = spawn([PY, "-c", textwrap.dedent("""
        import subprocess, threading, time
        def start():
            subprocess.Popen(["/bin/sleep", "3600"])
            time.sleep(3600)
        threading.Thread(target=start, daemon=True).start()
        time.sleep(3600)
    """)], start_new_session=True)
    deadline = time.monotonic() + 10
    while not psutil.Process(root.pid).children():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with perfkit.Sampler(root.pid, hz=10, children=True, pss=False, tree_hz=10) as s:
        time.sleep(0.2)
    assert s.summary()["tree_procs_max"] == 2


def test_a_tree_of_sleeps_weighs_less_in_pss_than_summed_rss(spawn):
    # Twenty copies of one program share its text and libc's: RSS counts those
    # pages twenty times, PSS once in all.
    root = tree_root(spawn, " ".join(["/bin/sleep 3600 &"] * 20) + " wait")
    deadline = time.monotonic() + 10
    while len(psutil.Process(root.pid).children()) < 20:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with perfkit.Sampler(root.pid, hz=10, children=True, tree_hz=10) as s:
        time.sleep(0.3)
    summary = s.summary()
    assert summary["tree_procs_max"] == 21
    assert summary["tree_peak_pss_bytes"] < 0.8 * summary["tree_peak_rss_sum_bytes"], summary


def test_tree_cpu_keeps_children_that_were_reaped_between_walks(spawn):
    # Burners of 0.2 s each, one after another: at 2 walks a second most are
    # born and reaped between two walks. Their CPU reaches the tree through
    # the shell's cutime; without it the tree would read about the shell's own.
    burn = f"{PY} -c 'import time\ne = time.time() + 0.2\nwhile time.time() < e: pass'"
    root = tree_root(spawn, f"while :; do {burn}; done")
    with perfkit.Sampler(root.pid, hz=20, children=True, pss=False, tree_hz=2) as s:
        time.sleep(2.5)
    summary = s.summary()
    assert summary["cpu_mean_percent"] < 5, summary  # the shell itself only waits
    assert summary["tree_cpu_mean_percent"] > 30, summary


def test_pss_of_one_process_when_asked(spawn):
    child = python_child(spawn, """
        block = bytearray(100 << 20)
        print("ready", flush=True)
        import time
        time.sleep(3600)
    """)
    with perfkit.Sampler(child.pid, hz=20, pss=True, tree_hz=10) as s:
        time.sleep(0.3)
    summary = s.summary()
    assert summary["peak_pss_bytes"] >= 100 << 20
    assert summary["peak_uss_bytes"] >= 100 << 20
    assert summary["peak_uss_bytes"] <= summary["peak_pss_bytes"] <= summary["peak_rss_bytes"]
    assert "tree_procs_max" not in summary


NOBODY_TREE = """
import ctypes, os, subprocess, sys, time, perfkit
# A child that may not be read (non-dumpable: ptrace, and so smaps_rollup, refused
# even to its own user) with a readable child of its own (exec makes it dumpable).
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    ctypes.CDLL(None).prctl(4, 0)  # PR_SET_DUMPABLE
    subprocess.Popen(["/bin/sleep", "60"])
    os.write(w, b"x")
    time.sleep(60)
    os._exit(0)
os.read(r, 1)
with perfkit.Sampler(os.getpid(), hz=10, children=True, tree_hz=10) as s:
    time.sleep(0.3)
summary = s.summary()
print("tree", summary["tree_procs_max"], summary["tree_denied_max"], flush=True)
os.killpg(0, 9)
"""


@pytest.fixture(scope="session")
def perfkit_for_nobody():
    """A copy of perfkit (its native module too) in a world-readable temporary
    directory: nobody may not enter the checkout when it lies under a private
    directory (a clone in a 0700 home)."""
    root = Path(tempfile.mkdtemp(prefix="perfkit-nobody-"))
    try:
        shutil.copytree(Path(perfkit.__file__).parent, root / "perfkit",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def as_nobody(code, perfkit_dir, *args, **kwargs):
    """python3 -c code as nobody, importing perfkit from perfkit_dir (also its
    working directory: the caller's may be closed to nobody)."""
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", PY, "-c", code,
         *args], capture_output=True, text=True, timeout=60, cwd=perfkit_dir,
        env={**os.environ, "PYTHONPATH": str(perfkit_dir)}, **kwargs)


NOBODY_SAMPLES = """
import sys, perfkit
pid = int(sys.argv[1])
with perfkit.Sampler(pid, hz=10) as s:
    pass  # the first sample is taken however soon it stops
print("rss", s.summary()["samples"] > 0, s.series()["open_fds"][-1])
try:
    perfkit.Sampler(pid, pss=True)
except PermissionError as e:
    print("PermissionError", e)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_a_process_the_caller_may_not_read_raises_permission_error(spawn, perfkit_for_nobody):
    # As nobody, a root process's statm and CPU clock may be read but not its
    # fds or its smaps_rollup (that needs the right to ptrace it).
    child = spawn(["/bin/sleep", "3600.125"])
    time.sleep(0.05)
    out = as_nobody(NOBODY_SAMPLES, perfkit_for_nobody, str(child.pid))
    assert out.returncode == 0, out.stderr
    assert "rss True -1" in out.stdout, out.stdout
    assert "PermissionError" in out.stdout and "smaps_rollup" in out.stdout, out.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_a_member_that_may_not_be_read_is_walked_through(perfkit_for_nobody):
    # Its PSS is left out and counted as denied; its own child is still found.
    out = as_nobody(NOBODY_TREE, perfkit_for_nobody, start_new_session=True)
    # "tree 2 1": the script itself and the sleep read, the non-dumpable child denied.
    assert "tree 2 1" in out.stdout, (out.stdout, out.stderr)


def test_a_window_summarises_only_its_part_of_the_run(spawn):
    # The child allocates when told and says when it has: on a loaded machine
    # zeroing 100 MB took longer than a fixed sleep allowed.
    child = spawn([PY, "-c", textwrap.dedent("""
        import sys, time
        print("ready", flush=True)
        sys.stdin.readline()
        block = bytearray(100 << 20)
        print("big", flush=True)
        time.sleep(3600)
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    with perfkit.Sampler(child.pid, hz=100) as s:
        t0 = time.monotonic()  # the sampler's clock began a little before
        time.sleep(0.5)
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "big"
        big = time.monotonic() - t0
        time.sleep(0.3)
    before, after = s.summary(0, 0.4), s.summary(big + 0.05, None)
    assert before["peak_rss_bytes"] < 50 << 20, before
    assert after["peak_rss_bytes"] >= 100 << 20, after
    assert before["samples"] + after["samples"] < s.summary()["samples"]
    assert 0 < before["duration_s"] <= 0.4
