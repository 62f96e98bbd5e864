"""`procmond run` end to end: the real daemon in a temporary directory, real
processes started and ended, their events read through procmondctl."""
import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from procmond_daemon import COLLECTORS, CONTROL, EVENT, Conn, collector_args, seq_of

pytestmark = pytest.mark.spawns

FAST = ("--interval", "100ms", "--connector", "off")


class Follower:
    """procmondctl events --json ... as a child; a thread queues its lines."""

    def __init__(self, d, *args):
        self.proc = subprocess.Popen([str(d.bin_dir / "procmondctl"), "--socket", str(d.socket),
                                      "events", "--json", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def until(self, pred, timeout=10.0):
        """Events until pred(event) holds; returns all read."""
        got = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                ev = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if ev is None:
                break
            got.append(ev)
            if pred(ev):
                return got
        raise AssertionError(f"not seen in {timeout}s; {len(got)} events, last {got[-3:]}")

    def close(self):
        self.proc.kill()
        self.proc.wait()


def test_status_says_which_source_is_in_force(procmond):
    d = procmond(*FAST)
    st = d.status()
    assert st["type"] == "status"
    assert st["source"] == "poll"
    assert "off" in st["connector"]
    assert st["interval_ms"] == 100
    out = json.loads(d.ctl("status").stdout)
    assert out["pid"] == d.proc.pid
    assert d.stop() == 0


@pytest.mark.parametrize("collector", COLLECTORS)
def test_a_real_process_is_started_then_exited(procmond, spawn, bin_dir, collector):
    # The connector off: every event comes from the collector under test.
    d = procmond(*FAST, *collector_args(bin_dir, collector))
    st = d.status()
    assert st["collector"] == collector
    assert st["collector_fallback"] is None  # asked for, so in force or refused
    assert f"procmond: collector: {collector}\n" in d.log_text()
    assert "since BPF cannot be used" not in d.log_text()
    hidden = " ".join(str(pid) for pid in st["collector_hidden"])
    assert (f"hidden from it, so unseen: {hidden}\n" in d.log_text()) == bool(hidden)
    f = Follower(d, "--kind", "started,exited")
    try:
        time.sleep(0.3)  # subscribed before the child starts
        child = spawn(["/bin/sleep", "30"])
        started = f.until(lambda e: e["kind"] == "started" and e["pid"] == child.pid)[-1]
        assert started["comm"] == "sleep"
        assert started["cmdline"] == ["/bin/sleep", "30"]
        assert started["ppid"] == os.getpid()
        assert started["uid"] == os.getuid()
        assert {"seq", "time", "kind", "pid"} <= started.keys()
        child.kill()
        child.wait()
        exited = f.until(lambda e: e["kind"] == "exited" and e["pid"] == child.pid)[-1]
        assert exited["seq"] > started["seq"]
        assert exited["start_time"] == started["start_time"]
    finally:
        f.close()
    assert d.stop() == 0


@pytest.mark.parametrize("collector", COLLECTORS)
def test_an_exec_that_keeps_the_name_is_seen(procmond, spawn, tmp_path, bin_dir, collector):
    # A python that execs python: same comm, new argv.
    script = tmp_path / "reexec.py"
    script.write_text("import os, sys, time\n"
                      "if sys.argv[1] == 'first':\n"
                      "    time.sleep(1.0)\n"
                      "    os.execv(sys.executable, [sys.executable, sys.argv[0], 'second'])\n"
                      "time.sleep(30)\n")
    d = procmond(*FAST, *collector_args(bin_dir, collector))
    f = Follower(d, "--kind", "started,changed")
    try:
        time.sleep(0.3)
        child = spawn([sys.executable, str(script), "first"])
        first = f.until(lambda e: e["pid"] == child.pid and e["cmdline"][-1:] == ["first"])[-1]
        # A poll may land between the fork and the first exec, or read the fork's stat and
        # the exec's cmdline, so a `changed` may still say "first"; the re-exec must follow.
        changed = f.until(lambda e: e["kind"] == "changed" and e["pid"] == child.pid
                          and e["cmdline"][-1:] == ["second"])[-1]
        assert "exec" in changed["changes"]
        assert changed["comm"] == first["comm"]  # the name kept: only the exec signal tells
    finally:
        f.close()


def test_the_first_event_is_the_snapshot_marker_not_a_storm(procmond):
    d = procmond(*FAST)
    time.sleep(0.5)
    out = d.ctl("events", "--from", "0", "--json", "--count", "1").stdout
    first = json.loads(out)
    assert first["kind"] == "snapshot"
    assert first["seq"] == 1
    assert first["processes"] > 1
    # No `started` for what was already running.
    st = d.status()
    assert st["seq"] < first["processes"]


def test_sigterm_stops_cleanly_and_tells_subscribers(procmond):
    d = procmond(*FAST, "--synthetic-events", "2000")
    c = Conn(d.socket)
    c.request({"op": "subscribe", "from": 0})
    assert c.control()["type"] == "subscribed"
    time.sleep(0.5)
    d.proc.send_signal(signal.SIGTERM)  # read on while it stops, as a subscriber does
    seqs, bye = [], None
    while (f := c.next()) is not None:
        if f[0] == EVENT:
            seqs.append(seq_of(f[1]))
        elif json.loads(f[1])["type"] == "bye":
            bye = json.loads(f[1])
    assert d.stop() == 0
    assert bye and bye["reason"] == "procmond is stopping"
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 2001
    assert bye["resume_from"] == seqs[-1] + 1


def test_a_second_daemon_is_refused_with_a_clear_line(procmond, tmp_path):
    d = procmond(*FAST)
    # The same data directory, another socket: the lock refuses it.
    same_data = subprocess.run([str(d.bin_dir / "procmond"), "run", "--socket",
                                str(tmp_path / "other.sock"), "--data-dir", str(d.data), *FAST],
                               capture_output=True, text=True, timeout=10)
    assert same_data.returncode == 1
    assert "in use by another procmond (pid %d)" % d.proc.pid in same_data.stderr
    # The same socket, another data directory.
    same_socket = subprocess.run([str(d.bin_dir / "procmond"), "run", "--socket", str(d.socket),
                                  "--data-dir", str(tmp_path / "other-data"), *FAST],
                                 capture_output=True, text=True, timeout=10)
    assert same_socket.returncode == 1
    assert "is in use by a running procmond" in same_socket.stderr
    assert d.status()["type"] == "status"  # the first one is untouched


def test_after_sigkill_it_starts_over_the_stale_socket_and_the_sequence_goes_on(procmond):
    d = procmond(*FAST)
    time.sleep(0.3)
    before = d.status()["seq"]
    assert before >= 1
    d.kill()
    assert d.socket.exists()  # left behind
    d.start()
    time.sleep(0.3)
    first_new = json.loads(d.ctl("events", "--from", str(before + 1), "--json", "--count", "1").stdout)
    assert first_new["seq"] == before + 1
    assert first_new["kind"] == "snapshot"


def test_a_socket_path_longer_than_sun_path_works(procmond, tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    d = procmond(*FAST, "--synthetic-events", "10", start=False, root=deep)
    assert len(str(d.socket)) > 108
    d.start(wait=False)
    deadline = time.monotonic() + 10
    while True:  # (the Python client cannot connect there; procmondctl can)
        r = d.ctl("status", check=False)
        if r.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert r.returncode == 0, r.stderr + d.log_text()
    assert json.loads(r.stdout)["type"] == "status"
    out = d.ctl("events", "--from", "0", "--json", "--count", "11").stdout.splitlines()
    assert [json.loads(x)["seq"] for x in out] == list(range(1, 12))
    assert d.stop() == 0
    assert not d.socket.exists()


def test_procmondctl_says_when_no_daemon_is_there(bin_dir, tmp_path):
    path = tmp_path / "none.sock"
    r = subprocess.run([str(bin_dir / "procmondctl"), "--socket", str(path), "events"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"cannot connect to {path}: is procmond running?" in r.stderr


def test_replay_then_live_has_no_gap_and_no_duplicate(procmond):
    d = procmond(*FAST, "--synthetic-events", "30000", "--synthetic-rate", "20000")
    time.sleep(0.6)  # part of them is in the WAL already
    c = Conn(d.socket)
    c.request({"op": "subscribe", "from": 0})
    sub = c.control()
    assert sub["head"] > 1000
    seqs = []
    while len(seqs) < 30001:
        f = c.next()
        assert f is not None
        if f[0] == EVENT:
            seqs.append(seq_of(f[1]))
    assert seqs == list(range(1, 30002))


def test_filters_by_kind_and_comm(procmond):
    d = procmond(*FAST, "--synthetic-events", "500")
    time.sleep(0.5)
    out = d.ctl("events", "--from", "0", "--kind", "synthetic", "--comm-prefix", "synth", "--json",
                "--count", "500").stdout.splitlines()
    evs = [json.loads(x) for x in out]
    assert len(evs) == 500 and all(e["kind"] == "synthetic" for e in evs)
    # A filter nothing passes: the stream carries no event (the subscriber is told
    # `subscribed`, then only control messages: the stop's `bye` last).
    c = Conn(d.socket)
    c.request({"op": "subscribe", "from": 0, "kinds": ["synthetic"], "comm_prefix": "bash"})
    assert c.control()["type"] == "subscribed"
    assert d.stop() == 0
    rest = []
    while (f := c.next()) is not None:
        rest.append(f)
    # (durable marks are for every subscriber, whatever its filter)
    assert [t for k, b in rest if (t := json.loads(b)["type"]) != "durable"] == ["bye"]
    assert all(k == CONTROL for k, b in rest)


def test_a_subscriber_that_does_not_read_stays_bounded_and_is_dropped(procmond):
    d = procmond(*FAST, "--queue", "2MiB", "--high-mark", "512KiB", "--low-mark", "128KiB",
                 "--synthetic-events", "2000000", "--synthetic-rate", "200000")
    lazy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lazy.connect(str(d.socket))
    body = json.dumps({"op": "subscribe"}).encode()
    lazy.sendall(struct.pack("<IB", len(body) + 1, 1) + body)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st = d.status()
        if st["slow_disconnects"] >= 1:
            break
        time.sleep(0.05)
    assert st["slow_disconnects"] >= 1, st
    assert st["backpressure"]["stretches"] >= 1
    # The daemon's memory stayed bounded by the queue, not by the 400,000 events.
    rss_kib = int(next(l for l in open(f"/proc/{d.proc.pid}/status") if l.startswith("VmHWM:")).split()[1])
    assert rss_kib < 64 * 1024, rss_kib
    # The lazy one reads what it was sent: events, then a bye that says where to resume.
    lazy.settimeout(10)
    data = b""
    while chunk := lazy.recv(1 << 20):
        data += chunk
    assert b'"slow subscriber' in data and b'"resume_from"' in data
    lazy.close()
    assert d.stop() == 0


def test_sd_notify_ready_once_the_socket_accepts(procmond, tmp_path):
    path = tmp_path / "notify.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(path))
    notify.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=str(path))
    d = procmond(*FAST, env=env, start=False).start(wait=False)
    msg = notify.recv(4096).decode()
    assert "READY=1" in msg
    # READY came after the socket accepts: a status is answered at once.
    assert Conn(d.socket, timeout=2) is not None
    assert d.stop() == 0
    assert "STOPPING=1" in notify.recv(4096).decode()


def test_bad_config_and_unusable_dirs_fail_at_start_with_one_line(bin_dir, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('intervall = "1s"\n')
    r = subprocess.run([str(bin_dir / "procmond"), "run", "--config", str(cfg), "--socket",
                        str(tmp_path / "s"), "--data-dir", str(tmp_path / "d")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "intervall: unknown key" in r.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = subprocess.run([str(bin_dir / "procmond"), "run", "--socket", str(tmp_path / "s"),
                        "--data-dir", str(blocker / "data")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "cannot create data directory" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small tmpfs for a full disk: needs root")
def test_a_full_disk_is_said_counted_and_live_subscribers_still_served(procmond, tmp_path):
    data = tmp_path / "small"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data)], check=True)
    try:
        cfg = tmp_path / "small.toml"
        cfg.write_text('[wal]\nsegment_size = "128KiB"\n')
        d = procmond(*FAST, "--config", str(cfg), "--synthetic-events", "30000",
                     "--synthetic-rate", "30000", start=False)
        d.data = data / "d"
        d.start()
        c = Conn(d.socket)
        c.request({"op": "subscribe"})
        assert c.control()["type"] == "subscribed"
        last = 0
        while last < 30001:  # the snapshot marker, then 30,000 synthetic
            f = c.next()
            assert f is not None
            if f[0] == EVENT:
                last = seq_of(f[1])
        st = d.status()
        # About 3.6 MB of events into 1 MB: most could not be written, and say so.
        assert st["wal"]["unwritten_events"] > 10000, st["wal"]
        assert "wal: cannot write (No space left on device)" in d.log_text()
        c.close()
        assert d.stop() == 0
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_connector_auto_polls_alone_without_the_right_and_says_why(bin_dir):
    """Run as nobody (when we are root) or as ourselves (when we are not):
    without CAP_NET_ADMIN, `auto` polls alone and status says why."""
    root = tempfile.mkdtemp(prefix="procmond-nobody-")
    try:
        os.chmod(root, 0o777)  # nobody must make its socket and data here
        argv = [str(bin_dir / "procmond"), "run", "--socket", f"{root}/s", "--data-dir",
                f"{root}/d", "--interval", "100ms"]
        if os.geteuid() == 0:
            if not os.access(bin_dir / "procmond", os.X_OK, effective_ids=False):
                pytest.skip("the build is not executable by nobody")
            argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 10
            while True:
                r = subprocess.run([str(bin_dir / "procmondctl"), "--socket", f"{root}/s", "status"],
                                   capture_output=True, text=True)
                if r.returncode == 0 or time.monotonic() > deadline or p.poll() is not None:
                    break
                time.sleep(0.02)
            if r.returncode != 0 and p.poll() is not None and "Permission denied" in p.stdout.read():
                pytest.skip("nobody cannot reach the build directory here")
            assert r.returncode == 0, r.stderr
            st = json.loads(r.stdout)
            assert st["source"] == "poll"
            assert "needs root or CAP_NET_ADMIN" in st["connector"]
            # and the collector: /proc, saying why not BPF
            assert st["collector"] == "proc"
            assert ("CAP_BPF" in st["collector_fallback"]
                    or "built without it" in st["collector_fallback"]), st["collector_fallback"]
        finally:
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=10) == 0
            log = p.stdout.read()
            assert "a poll of every process every 100 ms only" in log
            assert "collector: proc, since BPF cannot be used: " in log
    finally:
        shutil.rmtree(root, ignore_errors=True)
