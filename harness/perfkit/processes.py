"""The runner's children, none left behind: each in its own session (so one
signal to its group reaches everything it started there), each dying with the
runner even on SIGKILL (setpriv --pdeathsig; their own children only if they
arrange the same, as loadgen does), and at stop every descendant found before
the group is killed is killed too (one that left the group with setsid).

Only processes started here are signalled: a child that has exited is looked
at with waitid(WNOWAIT), which leaves it a zombie, so its pid and group id
cannot be reused by another process until stop() has killed the group and
reaped it."""
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

    def exit_status(self):
        """None while it runs; else as Popen.returncode (-N: killed by signal N).
        Does not reap it."""
        if self.popen.returncode is not None:
            return self.popen.returncode
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self.popen.wait()  # reaped elsewhere; Popen knows its status
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def running(self):
        return self.exit_status() is None

    def wait(self, timeout_s):
        """Waits for it to exit, without reaping it; False on timeout."""
        return wait_for(lambda: not self.running(), timeout_s, step_s=0.01)

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
        if not shutil.which("setpriv"):
            raise RuntimeError("setpriv (util-linux) is missing: it makes every child die "
                               "with the runner; apt-get install util-linux")

    def start(self, name, argv, env=None):
        """argv in a new session, its output (both streams) to log_dir/NAME.log."""
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--"]
                                     + [str(a) for a in argv],
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, **(env or {})})
        child = Child(name, popen, log_path)
        self._children.append(child)
        return child

    def stop(self, child, sig=signal.SIGTERM, timeout_s=10.0):
        """Signals the child's group, waits up to timeout_s, then SIGKILLs the
        group and every descendant seen before, and reaps the child. Returns
        its exit status."""
        if child not in self._children:
            return child.popen.returncode
        if child.popen.returncode is None:  # not reaped yet: its pid and group are still ours
            descendants = _descendants(child.pid)
            if child.running():
                _signal_group(child.pid, sig)
                child.wait(timeout_s)
            _signal_group(child.pid, signal.SIGKILL)  # stragglers left in its group
            child.popen.wait()  # reaped only now
            for d in descendants:  # those that left the group (setsid), if still the same
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
