"""The system under test: started, waited for until it is ready (a Unix socket
that accepts, a loopback TCP port, a file, a daemon's pidfile, a delay),
watched, and stopped, where anything but a clean stop fails the run."""
import os
import shlex
import shutil
import signal
import socket
import time
from pathlib import Path

from .errors import RunError
from .processes import wait_for
from .scenario import expand


class Sut:
    def __init__(self, spec, name, children, start, progress):
        """spec: the scenario's sut; children: the run's processes.Children;
        start(name, argv, env): starts a child of the run."""
        self.spec, self.name, self.children, self._start = spec, name, children, start
        self.progress = progress
        self.process = None  # a processes.Child: the command, or the daemon its pidfile names

    @property
    def pid(self):
        return self.process.pid

    def running(self):
        return self.process.running()

    def start(self, values):
        """Starts it and returns once it is ready, as sut.ready says."""
        argv = expand(self.spec.command, values)
        if not shutil.which(argv[0]):
            raise RunError(f"sut.command: {argv[0]!r} is not found or not executable")
        self.progress.say(f"{self.name}: starting {shlex.join(argv)}")
        ready = self.spec.ready
        started = time.monotonic()
        deadline = started + ready.timeout_s
        self.process = self._start("sut", argv, env=self.spec.env)
        if ready.pidfile:
            self._follow_pidfile(Path(ready.pidfile.format_map(values)), deadline)
        if not wait_for(_ready_probe(ready, values), deadline - time.monotonic(),
                        alive=self.running):
            self.check("before it was ready")
            self._not_ready()
        time.sleep(ready.delay_s)
        self.check("before it was ready")
        self.progress.say(f"{self.name}: ready in {time.monotonic() - started:.2f} s "
                          f"(pid {self.pid})")

    def _follow_pidfile(self, path, deadline):
        """Waits for the daemon the pidfile names, adopted by the runner (a
        subreaper) once its parent exits; from then on it is the SUT."""
        launcher, daemon = self.process, None

        def adopted():
            nonlocal daemon
            try:
                pid = int(path.read_text().strip())
            except (OSError, ValueError):
                return False  # not written yet, or half written
            daemon = self.children.adopt("sut.daemon", pid, launcher.log_path)
            return daemon is not None

        def launcher_fine():  # it may exit once it has forked, but only with 0
            return launcher.exit_status() in (None, 0)
        if not wait_for(adopted, deadline - time.monotonic(), alive=launcher_fine):
            if not launcher_fine():
                self.check("before it was ready")
            self._not_ready(f": {path} never named a process the run started whose "
                            "parent exited")
        self.process = daemon

    def _not_ready(self, why=""):
        raise RunError(f"the system under test was not ready within "
                       f"{self.spec.ready.timeout_s:g} s (sut.ready){why}; the end of its "
                       f"output:\n{self.process.log_tail()}")

    def check(self, during):
        """Raises RunError if it has exited."""
        status = self.process.exit_status()
        if status is not None:
            hint = ("; if it daemonizes (forks and exits), name its pidfile: "
                    "sut.ready = { pidfile = ... }"
                    if status == 0 and not self.spec.ready.pidfile else "")
            raise RunError(f"the system under test exited (status {status}) "
                           f"{during}{hint}; the end of its output:\n{self.process.log_tail()}")

    def stop(self):
        """Stops it with its stop signal; anything but an exit with 0 or by that
        signal (a crash or an abort at shutdown, or not stopping in time) fails
        the run."""
        sig, timeout_s = self.spec.stop_signal, self.spec.stop_timeout_s
        status = self.children.stop(self.process, sig, timeout_s)
        if status in (0, -sig, 128 + sig):  # 128 + N: the shells' way to say "by N"
            self.progress.say(f"{self.name}: stopped (status {status})")
            return
        if status == -signal.SIGKILL:
            how = f"did not stop within {timeout_s:g} s of {sig.name} (killed)"
        elif status < 0:
            how = f"died by {_signal_name(-status)} when stopped with {sig.name}"
        else:
            how = f"exited with status {status} when stopped with {sig.name}"
        raise RunError(f"the system under test {how}; the end of its output:\n"
                       f"{self.process.log_tail()}")


def _signal_name(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def _ready_probe(ready, values):
    """A function that is true once the SUT is ready, as the scenario says
    (but for its pidfile, which is followed first)."""
    checks = []
    if ready.file:
        path = Path(ready.file.format_map(values))
        checks.append(path.exists)
    if ready.socket:
        path = ready.socket.format_map(values)

        def unix_accepts():
            # sun_path holds 107 bytes: a longer path goes through its directory's fd.
            try:
                dir_fd = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY)
            except OSError:
                return False
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(f"/proc/self/fd/{dir_fd}/{os.path.basename(path)}")
                    return True
            except OSError:
                return False
            finally:
                os.close(dir_fd)
        checks.append(unix_accepts)
    if ready.tcp:
        host, _, port = ready.tcp.format_map(values).rpartition(":")

        def tcp_accepts():
            try:
                socket.create_connection((host.strip("[]"), int(port)), timeout=0.5).close()
                return True
            except OSError:
                return False
        checks.append(tcp_accepts)
    return lambda: all(c() for c in checks)
