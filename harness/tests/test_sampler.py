"""perfkit.Sampler against children that do known things."""
import subprocess
import textwrap
import threading
import time

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
    child = python_child(spawn, """
        print("ready", flush=True)
        import time
        block = bytearray(200 << 20)   # zeroed, so every page is touched
        time.sleep(0.5)
        del block
        time.sleep(3600)
    """)
    with perfkit.Sampler(child.pid, hz=100) as s:
        time.sleep(1.0)
    summary = s.summary()
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
    assert s.series()["t"][-1] <= summary["exit_t"]


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


def test_the_gil_is_free_while_it_samples(spawn):
    child = spawn(["/bin/sleep", "3600.75"])
    time.sleep(0.05)
    counted = []

    def count():
        n, end = 0, time.monotonic() + 0.3
        while time.monotonic() < end:
            n += 1
        counted.append(n)

    with perfkit.Sampler(child.pid, hz=1000):
        worker = threading.Thread(target=count)
        worker.start()
        worker.join()
    assert counted and counted[0] > 1000


def test_bad_rates_are_value_errors():
    with pytest.raises(ValueError):
        perfkit.Sampler(1, hz=0)
