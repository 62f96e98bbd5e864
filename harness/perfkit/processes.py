"""The runner's children, none left behind: each in its own session (so one
signal to its group reaches everything it started there), each dying with the
runner even on SIGKILL (setpriv --pdeathsig), and at stop every descendant
found before the group is killed is killed too (one that left the group with
setsid). Only processes started here are ever signalled."""
import os
import shutil
import signal
import subprocess
import time

import psutil


class Child:
    def __init__(self, name, popen, log_path):
        self.name, self.popen, self.log_path = name, popen, log_path

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def log_tail(self, lines=15):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Children:
    """Starts and stops the runner's children; `stop_all()` on any way out."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self._children = []
        # With it, a child outlives a SIGKILLed runner by nothing (util-linux).
        self._pdeathsig = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which(
            "setpriv") else []

    def start(self, name, argv, env=None):
        """argv in a new session, its output (both streams) to log_dir/NAME.log."""
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(self._pdeathsig + [str(a) for a in argv],
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, **(env or {})})
        child = Child(name, popen, log_path)
        self._children.append(child)
        return child

    def stop(self, child, sig=signal.SIGTERM, timeout_s=10.0):
        """Signals the child's group, waits up to timeout_s, then SIGKILLs the
        group and every descendant seen before. Returns its exit status."""
        if child not in self._children:
            return child.popen.returncode
        descendants = _descendants(child.pid)
        if child.running():
            _signal_group(child.pid, sig)
            try:
                child.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(child.pid, signal.SIGKILL)  # stragglers left in its group
        child.popen.wait()
        for d in descendants:  # those that left the group (setsid), if still the same process
            try:
                if d.is_running():
                    d.kill()
            except psutil.Error:
                pass
        self._children.remove(child)
        return child.popen.returncode

    def stop_all(self, timeout_s=5.0):
        for child in reversed(list(self._children)):
            self.stop(child, timeout_s=timeout_s)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is empty


def _descendants(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def wait_for(predicate, timeout_s, step_s=0.02, alive=None):
    """True once predicate() holds; False on timeout or when alive() turns false."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline or (alive is not None and not alive()):
            return False
        time.sleep(step_s)
