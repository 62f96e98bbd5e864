"""`procmond snapshot` as a user runs it, checked against psutil's view of the
same processes (psutil reads /proc its own way)."""
import json
import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from procmond_daemon import COLLECTORS, bpf_unavailable, collector_args

pytestmark = pytest.mark.spawns

# procmond reads rss from /proc/PID/stat, psutil from statm. Since Linux 6.2
# stat's figure is the sum of three per-CPU counters (file, anon and shmem
# pages) each read without summing its CPUs; each may be off by the counter's
# batch (max(32, 2 * cpus) pages) on each CPU. One counter's worth was too
# little: a fresh sleep once read 74 pages apart on 2 CPUs (the bound 64).
CPUS = os.cpu_count()
RSS_TOLERANCE_BYTES = 3 * max(32, 2 * CPUS) * CPUS * os.sysconf("SC_PAGE_SIZE")


def wait_exec(pid, name, timeout=5.0):
    deadline = time.monotonic() + timeout
    while psutil.Process(pid).name() != name:
        assert time.monotonic() < deadline, f"{pid} never became {name}"
        time.sleep(0.01)


def snapshot_json(bin_dir, *args):
    out = subprocess.run([bin_dir / "procmond", "snapshot", "--json", *args], check=True,
                         capture_output=True).stdout
    doc = json.loads(out)
    return doc, {p["pid"]: p for p in doc["processes"]}


@pytest.mark.parametrize("collector", COLLECTORS)
def test_json_agrees_with_psutil(bin_dir, spawn, collector):
    args = collector_args(bin_dir, collector)
    children = [spawn(["/bin/sleep", f"3600.{i}"]) for i in range(3)]
    for c in children:
        wait_exec(c.pid, "sleep")
    doc, by_pid = snapshot_json(bin_dir, *args)
    assert doc["collector"] == collector
    assert doc["count"] == len(doc["processes"]) >= len(children)
    boot = psutil.boot_time()
    ticks = os.sysconf("SC_CLK_TCK")
    for i, c in enumerate(children):
        ours, theirs = by_pid[c.pid], psutil.Process(c.pid)
        assert ours["ppid"] == theirs.ppid() == os.getpid()
        assert ours["comm"] == theirs.name() == "sleep"
        assert ours["cmdline"] == theirs.cmdline() == ["/bin/sleep", f"3600.{i}"]
        assert ours["exe"] == theirs.exe()
        assert ours["uid"] == theirs.uids().real
        assert ours["state"] == "S" and theirs.status() == psutil.STATUS_SLEEPING
        assert ours["threads"] == theirs.num_threads() == 1
        mem = theirs.memory_info()
        assert abs(ours["rss_bytes"] - mem.rss) <= RSS_TOLERANCE_BYTES
        assert ours["vsize_bytes"] == mem.vms
        assert abs(boot + ours["start_time"] / ticks - theirs.create_time()) < 0.02


def test_every_field_the_issue_names_is_present(bin_dir):
    _, by_pid = snapshot_json(bin_dir)
    keys = {"pid", "ppid", "uid", "state", "comm", "cmdline", "exe", "start_time", "utime",
            "stime", "rss_bytes", "vsize_bytes", "threads", "cmdline_truncated"}
    for p in by_pid.values():
        assert set(p) == keys


def snapshot_table(bin_dir):
    """The table's lines, as bytes: any process on the host may carry bytes in
    its argv that are not UTF-8, and the table shows them as they are."""
    out = subprocess.run([bin_dir / "procmond", "snapshot"], check=True,
                         capture_output=True).stdout
    return out.splitlines()


def row_of(lines, pid):
    return next(line for line in lines if line.split()[0] == str(pid).encode())


def test_table_lists_our_child(bin_dir, spawn):
    child = spawn(["/bin/sleep", "3600.99"])
    wait_exec(child.pid, "sleep")
    lines = snapshot_table(bin_dir)
    assert lines[0].split()[:4] == [b"PID", b"PPID", b"UID", b"S"]
    assert row_of(lines, child.pid).rstrip().endswith(b"/bin/sleep 3600.99")
    assert lines[-1] == f"{len(lines) - 2} processes".encode()


def test_table_keeps_a_non_utf8_argv_on_one_row(bin_dir, spawn):
    child = spawn([b"/usr/bin/python3", b"-c", b"import time; time.sleep(3600)", b"caf\xe9\xff"])
    wait_exec(child.pid, "python3")
    lines = snapshot_table(bin_dir)
    row = row_of(lines, child.pid).rstrip()
    # As they are, or escaped as control bytes are: either way on its one row.
    assert row.endswith(b" caf\xe9\xff") or row.endswith(rb" caf\xe9\xff"), row
    assert lines[-1] == f"{len(lines) - 2} processes".encode()
    doc, by_pid = snapshot_json(bin_dir)  # JSON stays valid UTF-8 whatever the argv
    assert by_pid[child.pid]["cmdline"][:2] == ["/usr/bin/python3", "-c"]


def test_table_keeps_a_multiline_cmdline_on_one_row(bin_dir, spawn):
    # Any process may carry a newline in its argv (CI met one); the row must stay one line.
    child = spawn(["/usr/bin/python3", "-c", "import time\ntime.sleep(3600)"])
    wait_exec(child.pid, "python3")
    lines = snapshot_table(bin_dir)
    assert all(line.split() for line in lines)
    row = row_of(lines, child.pid)
    assert row.rstrip().endswith(rb"/usr/bin/python3 -c import time\ntime.sleep(3600)")
    assert lines[-1] == f"{len(lines) - 2} processes".encode()


def test_missing_proc_root_is_a_clear_error(bin_dir):
    r = subprocess.run([bin_dir / "procmond", "snapshot", "--proc-root", "/no/such/dir"],
                       capture_output=True, text=True)
    assert r.returncode == 3  # /proc could not be read at all
    assert "/no/such/dir" in r.stderr


def as_nobody(bin_dir, *args):
    """procmond snapshot ARGS as nobody (we are root) or as ourselves (we are not)."""
    argv = [str(bin_dir / "procmond"), "snapshot", *args]
    if os.geteuid() == 0:
        if not os.access(bin_dir / "procmond", os.X_OK, effective_ids=False):
            pytest.skip("the build is not executable by nobody")
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    return subprocess.run(argv, capture_output=True, text=True)


def test_unprivileged_auto_reads_proc_and_says_why_not_bpf(bin_dir):
    r = as_nobody(bin_dir, "--json")
    if r.returncode != 0 and "Permission denied" in r.stderr:
        pytest.skip("nobody cannot reach the build directory here")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["collector"] == "proc"
    assert ("CAP_BPF" in doc["collector_fallback"]
            or "built without it" in doc["collector_fallback"]), doc["collector_fallback"]
    assert doc["count"] > 10  # and /proc still read every process


def test_unprivileged_bpf_is_refused_in_one_line(bin_dir):
    r = as_nobody(bin_dir, "--collector", "bpf")
    if "Permission denied" in r.stderr and "BPF" not in r.stderr:
        pytest.skip("nobody cannot reach the build directory here")
    assert r.returncode == 3
    assert r.stderr.startswith("procmond snapshot: the BPF collector cannot be used: ")
    assert r.stderr.count("\n") == 1
    assert r.stdout == ""


UNIT = Path(__file__).resolve().parents[1] / "systemd" / "procmond.service"


def unit_setting(key):
    """The words of KEY= in the shipped systemd unit."""
    for line in UNIT.read_text().splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1].split()
    raise AssertionError(f"{UNIT} has no {key}=")


def snapshot_with_capabilities(bin_dir, caps):
    """procmond snapshot --json as root bounded to CAPS (as the unit's
    CapabilityBoundingSet bounds the service: root keeps only these)."""
    bounding = ",".join(["-all"] + ["+" + c.lower().removeprefix("cap_") for c in caps])
    r = subprocess.run(["setpriv", "--bounding-set", bounding, str(bin_dir / "procmond"),
                        "snapshot", "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_the_systemd_unit_lets_auto_use_bpf(bin_dir):
    if why := bpf_unavailable(bin_dir):
        pytest.skip(why)
    assert "bpf" in unit_setting("SystemCallFilter")  # @system-service leaves bpf() out
    caps = unit_setting("CapabilityBoundingSet")
    doc = snapshot_with_capabilities(bin_dir, caps)
    assert doc["collector"] == "bpf", doc.get("collector_fallback")
    # And the two it needs for BPF are what make the difference.
    without = [c for c in caps if c not in ("CAP_BPF", "CAP_PERFMON")]
    doc = snapshot_with_capabilities(bin_dir, without)
    assert doc["collector"] == "proc"
    assert "CAP_BPF" in doc["collector_fallback"]
