"""collector_bench leaves no process behind, also when it is killed."""
import signal
import subprocess
import time

import psutil
import pytest

pytestmark = [pytest.mark.spawns, pytest.mark.slow]


def gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def default_signals():
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
def test_children_die_with_the_bench(bin_dir, sig):
    # Psutil with a long minimum time keeps the bench busy with its 200 children.
    # The signals' default actions, whatever ours are: a test run in the
    # background of a non-interactive shell inherits SIGINT ignored.
    bench = subprocess.Popen([bin_dir / "collector_bench", "--procs=200",
                              "--benchmark_filter=Psutil", "--benchmark_min_time=60"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=default_signals)
    try:
        deadline = time.monotonic() + 20
        children = []
        while len(children) < 201:  # 200 sleepers and the tools probe
            assert bench.poll() is None, "collector_bench exited early"
            assert time.monotonic() < deadline, f"only {len(children)} children appeared"
            time.sleep(0.05)
            children = psutil.Process(bench.pid).children()
        pids = [c.pid for c in children]
        bench.send_signal(sig)
        bench.wait(timeout=10)
        deadline = time.monotonic() + 2
        while not all(gone(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.02)
        left = [p for p in pids if not gone(p)]
        assert not left, f"{len(left)} children outlived the bench"
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
