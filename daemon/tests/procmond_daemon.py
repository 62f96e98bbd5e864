"""`procmond run` started for a test: in a temporary directory, with its own
socket and data, stopped (or killed) and reaped whatever the test did; and a
few words of its socket protocol (daemon/PROTOCOL.md) for tests that must
misbehave as a client."""
import json
import os
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

REQUEST, EVENT, CONTROL = 1, 2, 3

COLLECTORS = ("proc", "bpf")


def bpf_unavailable(bin_dir):
    """Why `--collector bpf` cannot run here by design (not root; a build
    without libbpf), else None: then it must work, and a test of it fails
    rather than skips when it does not."""
    if os.geteuid() != 0:
        return "the BPF collector needs root (or CAP_BPF with CAP_PERFMON)"
    r = subprocess.run([str(bin_dir / "procmond"), "snapshot", "--collector", "bpf", "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0 and "built without it" in r.stderr:
        return r.stderr.strip()
    return None


def collector_args(bin_dir, collector):
    """("--collector", NAME), skipping the test where BPF cannot run by design."""
    import pytest  # only tests call this
    if collector == "bpf" and (why := bpf_unavailable(bin_dir)):
        pytest.skip(why)
    return ("--collector", collector)


def frame(kind, body: bytes) -> bytes:
    return struct.pack("<IB", len(body) + 1, kind) + body


class Conn:
    """A raw client: send requests, read frames."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""

    def request(self, obj):
        self.sock.sendall(frame(REQUEST, json.dumps(obj).encode()))

    def next(self):
        """(type, body) or None at EOF."""
        while True:
            if len(self.buf) >= 5:
                n, kind = struct.unpack_from("<IB", self.buf)
                if len(self.buf) >= 4 + n:
                    body = self.buf[5:4 + n]
                    self.buf = self.buf[4 + n:]
                    return kind, body
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk

    def control(self):
        """The next control message, skipping events."""
        while True:
            f = self.next()
            if f is None:
                return None
            if f[0] == CONTROL:
                return json.loads(f[1])

    def close(self):
        self.sock.close()


def seq_of(event_body: bytes) -> int:
    return struct.unpack_from("<Q", event_body)[0]


class Daemon:
    def __init__(self, bin_dir, root: Path, *args, env=None):
        self.bin_dir = Path(bin_dir)
        self.root = Path(root)
        self.socket = self.root / "run" / "procmond.sock"
        self.data = self.root / "data"
        self.args = list(args)
        self.env = env
        self.proc = None
        self.log = self.root / "procmond.log"

    def argv(self):
        return [str(self.bin_dir / "procmond"), "run", "--socket", str(self.socket),
                "--data-dir", str(self.data), *self.args]

    def start(self, wait=True):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10.0):
        """Until a status request is answered (the socket accepts and the WAL is open)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"procmond exited {self.proc.returncode}: {self.log_text()}")
            try:
                return self.status()
            except (OSError, ConnectionError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"procmond not ready in {timeout}s: {self.log_text()}")
                time.sleep(0.01)

    def status(self):
        c = Conn(self.socket)
        try:
            c.request({"op": "status"})
            return c.control()
        finally:
            c.close()

    def ctl(self, *args, timeout=30, check=True):
        return subprocess.run([str(self.bin_dir / "procmondctl"), "--socket", str(self.socket), *args],
                              capture_output=True, text=True, timeout=timeout, check=check)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError(f"procmond did not stop on {sig} in {timeout}s")
        finally:
            self.logf.close()
        self.proc = None
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)
