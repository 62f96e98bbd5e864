"""collector_bench under the limits an ordinary user meets: a small RLIMIT_NPROC
is refused in one line, and a soft RLIMIT_NOFILE of 1,024 is raised so that held
mode and its floor hold every stat fd (and say how many they held)."""
import json
import os
import resource
import shutil
import subprocess
import tempfile

import pytest

pytestmark = [pytest.mark.spawns]


@pytest.fixture
def bench(bin_dir):
    """The bench, copied where any user may run it (the checkout may sit under
    a directory others cannot enter)."""
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        path = shutil.copy(bin_dir / "collector_bench", tmp)
        yield path


def run(argv, limits, timeout=120):
    """Runs argv with the given rlimits: as nobody when we are root (root is
    exempt from RLIMIT_NPROC), as ourselves otherwise."""
    def set_limits():
        for which, value in limits.items():
            resource.setrlimit(which, value)

    as_nobody = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=set_limits, **as_nobody)


def bench_json(result):
    assert result.returncode == 0, result.stderr
    return {b["run_name"].split("/")[0]: b for b in json.loads(result.stdout)["benchmarks"]}


def test_a_set_that_rlimit_nproc_forbids_is_refused_in_one_line(bench):
    r = run([bench, "--procs=1000"], {resource.RLIMIT_NPROC: (100, 100)})
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1, r.stderr
    assert "RLIMIT_NPROC (ulimit -u) is 100" in r.stderr
    assert "--procs=1000" in r.stderr


def test_a_fork_that_fails_halfway_is_one_clear_line_not_a_terminate(bench):
    # The bench is one of the 50 processes: its 50th child cannot be forked.
    r = run([bench, "--procs=50", "--benchmark_filter=^Floor"], {resource.RLIMIT_NPROC: (50, 50)})
    assert r.returncode == 1
    assert "terminate" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "RLIMIT_NPROC (ulimit -u) is 50" in last, r.stderr


def test_a_soft_fd_limit_of_1024_is_raised_and_every_stat_fd_held(bench):
    n = 1500
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 512:
        pytest.skip(f"the hard fd limit ({hard}) is below what {n} held fds need")
    r = run([bench, f"--procs={n}", "--benchmark_filter=^(HeldFloor|CollectorHeld)/",
             "--benchmark_min_time=0.01", "--benchmark_format=json"],
            {resource.RLIMIT_NOFILE: (1024, hard)})
    rows = bench_json(r)
    assert f"RLIMIT_NOFILE soft limit 1024 -> {hard}" in r.stderr
    for name in ("HeldFloor", "CollectorHeld"):
        assert rows[name]["procs"] >= n, name
        assert rows[name]["held_fds"] >= n, name
        assert rows[name]["fd_limit"] == hard, name


def test_the_held_floor_counts_what_it_read_and_the_fds_it_held(bench):
    # A hard limit of 1,024 cannot be raised: 768 fds are held (the collector's
    # reserve of 256 left), and the rest are read as plain mode would.
    n = 1500
    r = run([bench, f"--procs={n}", "--benchmark_filter=^(HeldFloor|CollectorHeld)/",
             "--benchmark_min_time=0.01", "--benchmark_format=json"],
            {resource.RLIMIT_NOFILE: (1024, 1024)})
    rows = bench_json(r)
    assert "soft limit 1024 -> 1024 (hard 1024)" in r.stderr
    for name in ("HeldFloor", "CollectorHeld"):
        assert rows[name]["held_fds"] == 768, name
        assert rows[name]["fd_limit"] == 1024, name
        assert rows[name]["procs"] >= n, name
