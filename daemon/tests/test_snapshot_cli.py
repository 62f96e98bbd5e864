"""`procmond snapshot` as a user runs it, checked against psutil's view of the
same processes (psutil reads /proc its own way)."""
import json
import os
import subprocess
import time

import psutil
import pytest

pytestmark = pytest.mark.spawns

# procmond reads rss from /proc/PID/stat, psutil from statm. Since Linux 6.2
# stat's figure is the per-CPU counter read without summing; it may be off by
# the counter's batch (max(32, 2 * cpus) pages) on each CPU.
CPUS = os.cpu_count()
RSS_TOLERANCE_BYTES = max(32, 2 * CPUS) * CPUS * os.sysconf("SC_PAGE_SIZE")


def wait_exec(pid, name, timeout=5.0):
    deadline = time.monotonic() + timeout
    while psutil.Process(pid).name() != name:
        assert time.monotonic() < deadline, f"{pid} never became {name}"
        time.sleep(0.01)


def snapshot_json(bin_dir):
    out = subprocess.run([bin_dir / "procmond", "snapshot", "--json"], check=True,
                         capture_output=True).stdout
    doc = json.loads(out)
    return doc, {p["pid"]: p for p in doc["processes"]}


def test_json_agrees_with_psutil(bin_dir, spawn):
    children = [spawn(["/bin/sleep", f"3600.{i}"]) for i in range(3)]
    for c in children:
        wait_exec(c.pid, "sleep")
    doc, by_pid = snapshot_json(bin_dir)
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


def test_table_lists_our_child(bin_dir, spawn):
    child = spawn(["/bin/sleep", "3600.99"])
    wait_exec(child.pid, "sleep")
    out = subprocess.run([bin_dir / "procmond", "snapshot"], check=True, capture_output=True,
                         text=True).stdout
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["PID", "PPID", "UID", "S"]
    row = next(line for line in lines if line.split()[0] == str(child.pid))
    assert row.rstrip().endswith("/bin/sleep 3600.99")
    assert lines[-1] == f"{len(lines) - 2} processes"


def test_table_keeps_a_multiline_cmdline_on_one_row(bin_dir, spawn):
    # Any process may carry a newline in its argv (CI met one); the row must stay one line.
    child = spawn(["/usr/bin/python3", "-c", "import time\ntime.sleep(3600)"])
    wait_exec(child.pid, "python3")
    out = subprocess.run([bin_dir / "procmond", "snapshot"], check=True, capture_output=True,
                         text=True).stdout
    lines = out.splitlines()
    assert all(line.split() for line in lines)
    row = next(line for line in lines if line.split()[0] == str(child.pid))
    assert row.rstrip().endswith(r"/usr/bin/python3 -c import time\ntime.sleep(3600)")
    assert lines[-1] == f"{len(lines) - 2} processes"


def test_missing_proc_root_is_a_clear_error(bin_dir):
    r = subprocess.run([bin_dir / "procmond", "snapshot", "--proc-root", "/no/such/dir"],
                       capture_output=True, text=True)
    assert r.returncode == 3  # /proc could not be read at all
    assert "/no/such/dir" in r.stderr
