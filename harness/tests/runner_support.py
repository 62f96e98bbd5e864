"""What the runner's tests share: the test daemon's scenario, the
`perfkit_cli` fixture (runs `python3 -m perfkit run` in a new session with a
marker in its environment, and asserts afterwards that nothing carrying the
marker lives on), and the searches for leftover processes by that marker,
never by name."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest

HERE = Path(__file__).resolve().parent
HARNESS = HERE.parent
PY = "/usr/bin/python3"
DAEMON = HERE / "testdaemon.py"
PING = ("import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
        "s.sendall(b'ping'); assert s.recv(5).startswith(b'pong')")


def _living():
    for p in psutil.process_iter():
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                yield p
        except psutil.Error:
            pass  # gone while we looked


def in_sessions(sids):
    """pids of living processes whose session id is one of `sids`."""
    found = []
    for p in _living():
        try:
            if os.getsid(p.pid) in sids:
                found.append(p.pid)
        except OSError:
            pass
    return found


def marked(marker):
    """pids of living processes whose environment carries the marker."""
    found = []
    for p in _living():
        try:
            if p.environ().get("PERFKIT_TEST_MARKER") == marker:
                found.append(p.pid)
        except psutil.Error:
            pass  # gone, or not ours to read
    return found


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def perfkit_cli(bin_dir, tmp_path):
    """Runs `python3 -m perfkit run` on a scenario text in a new session with a
    marker; afterwards asserts nothing carrying the marker lives on."""
    marker = uuid.uuid4().hex
    started = []
    # The runner's own directory (kept on failure, with its logs) goes in here,
    # not in /tmp; short, so a Unix socket path in it stays under 108 bytes.
    runs = tempfile.mkdtemp(prefix="pk")

    def _start(toml, *extra):
        path = tmp_path / "scenario.toml"
        path.write_text(toml)
        env = {**os.environ, "PERFKIT_TEST_MARKER": marker,
               "PYTHONPATH": str(HARNESS), "TMPDIR": runs}
        p = subprocess.Popen([PY, "-m", "perfkit", "run", path, "-o", tmp_path / "run.json",
                              "--build-dir", bin_dir.parent, *extra], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        started.append(p)
        return p

    _start.marker = marker
    _start.out = tmp_path / "run.json"
    yield _start
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    shutil.rmtree(runs, ignore_errors=True)
    left = marked(marker)
    # Assert after cleaning up, so a failing test leaves nothing either.
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"


def scenario_text(daemon_args="--mb 30", phases=None, sampling="hz = 100", ready_timeout=10,
                  ready='socket = "{tmp}/d.sock"', sut=""):
    return f"""
name = "testdaemon"
[sut]
command = ["{PY}", "{DAEMON}", "{{tmp}}/d.sock", {", ".join(f'"{a}"' for a in daemon_args.split())}]
ready = {{ {ready}, timeout_s = {ready_timeout} }}
{sut}
[sampling]
{sampling}
""" + (phases or """
[[phases]]
name = "idle"
seconds = 0.5
""")


FULL_PHASES = f"""
[[phases]]
name = "idle"
seconds = 0.5

[[phases]]
name = "loaded"
seconds = 1
load = {{ count = 20, kind = "sleep" }}
[[phases.benchmarks]]
name = "ping"
command = ["{PY}", "-c", "{PING}", "{{tmp}}/d.sock"]
repetitions = 2

[[phases]]
name = "client"
command = ["{PY}", "-c", "{PING}", "{{tmp}}/d.sock"]
until = "exit"
seconds = 30
"""
