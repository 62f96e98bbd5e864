"""The runner's children, none left behind.

Each child runs in its own session (so one signal to its group reaches what
it started there) under `setpriv --pdeathsig KILL` (so it dies with the
runner, even on SIGKILL). The runner is a child subreaper while a run lasts:
a descendant that leaves (setsid and a double fork, as daemons do) is
reparented to the runner instead of init, so it is still found, stopped and
reaped; a daemon named by a pidfile is adopted as a child of its own.

Only processes of the run are signalled: a child that has exited is looked at
with waitid(WNOWAIT), which leaves it a zombie, so its pid and group id cannot
be reused by another process until stop() has killed the group and reaped it."""
import ctypes
import os
import shutil
import signal
import subprocess
import time

import psutil

SETPRIV_MISSING = ("setpriv (util-linux) is missing: it makes every child die with the "
                   "runner; apt-get install util-linux")

_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER, _PR_GET_CHILD_SUBREAPER = 1, 36, 37
_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option, arg):
    """prctl(option, arg): arg an int, or a ctypes object to point at."""
    arg = ctypes.byref(arg) if isinstance(arg, ctypes._SimpleCData) else ctypes.c_ulong(arg)
    if _libc.prctl(ctypes.c_int(option), arg, ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def set_subreaper(on):
    """Makes this process the reaper of its orphaned descendants (or not);
    returns what it was."""
    was = ctypes.c_int()
    _prctl(_PR_GET_CHILD_SUBREAPER, was)
    _prctl(_PR_SET_CHILD_SUBREAPER, int(on))
    return bool(was.value)


def set_parent_death_signal(sig):
    _prctl(_PR_SET_PDEATHSIG, int(sig))


def has_setpriv():
    return shutil.which("setpriv") is not None


class Child:
    """A process of the run: one the runner started (popen), or a daemon it
    adopted (reparented to it, so it may wait for it as for its own)."""

    def __init__(self, name, pid, log_path, popen=None):
        self.name, self.pid, self.log_path, self.popen = name, pid, log_path, popen
        self.returncode = None  # once reaped

    def exit_status(self):
        """None while it runs; else as Popen.returncode (-N: killed by signal N).
        Does not reap it."""
        if self.returncode is not None:
            return self.returncode
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self.reap()  # reaped elsewhere: Popen knows its status
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def running(self):
        return self.exit_status() is None

    def wait(self, timeout_s):
        """Waits for it to exit, without reaping it; False on timeout."""
        return wait_for(lambda: not self.running(), timeout_s, step_s=0.01)

    def reap(self):
        if self.returncode is None:
            if self.popen is not None:
                self.returncode = self.popen.wait()
            else:
                try:
                    self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
                except ChildProcessError:  # reaped by someone else: its status is lost
                    self.returncode = 255
        return self.returncode

    def log_tail(self, lines=15):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Children:
    """Starts, adopts and stops the run's processes; `close()` on any way out
    stops every one left, strays included."""

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self._children = []
        self._me = psutil.Process()
        # Children this process had before the run are not the run's (the runner
        # may be a library call inside a program with children of its own).
        self._before = set(self._me.children())
        self._was_subreaper = set_subreaper(True)

    def start(self, name, argv, env=None):
        """argv in a new session, its output (both streams) to log_dir/NAME.log."""
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(["setpriv", "--pdeathsig", "KILL", "--"]
                                     + [str(a) for a in argv],
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**os.environ, **(env or {})})
        child = Child(name, popen.pid, log_path, popen)
        self._children.append(child)
        return child

    def adopt(self, name, pid, log_path):
        """A daemon the run started that was reparented to this process (its
        parent exited); None if pid is not such a process."""
        known = next((c for c in self._children if c.pid == pid), None)
        if known:
            return known
        try:
            proc = psutil.Process(pid)
            if proc.ppid() != self._me.pid or proc in self._before:
                return None
        except psutil.Error:
            return None
        child = Child(name, pid, log_path)
        self._children.append(child)
        return child

    def stop(self, child, sig=signal.SIGTERM, timeout_s=10.0):
        """Signals the child's group, waits up to timeout_s, then SIGKILLs the
        group and every descendant seen before, and reaps the child. Returns
        its exit status."""
        if child not in self._children:
            return child.returncode
        if child.returncode is None:  # not reaped yet: its pid and group are still ours
            descendants = _descendants(child.pid)
            group = _group_of(child.pid)
            if child.running():
                _signal_group(group, sig)
                child.wait(timeout_s)
            _signal_group(group, signal.SIGKILL)  # stragglers left in its group
            child.reap()
            _kill(descendants)  # those that left the group (setsid), if still the same
        self._children.remove(child)
        return child.returncode

    def close(self, timeout_s=5.0):
        """Stops every child, then every stray (a descendant reparented to this
        process, as a double fork's grandchild is), and stops being a subreaper."""
        try:
            for child in reversed(list(self._children)):
                self.stop(child, timeout_s=timeout_s)
            reap_strays(self._me, self._before)
        finally:
            set_subreaper(self._was_subreaper)


def reap_strays(me, keep=(), rounds=50):
    """Kills and reaps every descendant of `me` but `keep` and theirs; each
    killed process's orphans are reparented to `me` (a subreaper) and reaped
    in the next round. One scan of the process table a round (with 10,000
    processes on the machine a scan takes 0.2-0.8 s). Returns how many."""
    found = set()
    for _ in range(rounds):
        parent = {}
        for p in me.children(recursive=True):
            try:
                parent[p] = p.ppid()
            except psutil.Error:
                pass  # gone already
        by_pid = {p.pid: p for p in parent}

        def kept(p):
            while p is not None and p not in keep:
                p = by_pid.get(parent[p])
            return p is not None
        strays = [p for p in parent if not kept(p)]
        if not strays:
            break
        found.update(strays)
        _kill(strays)
        for p in strays:
            if parent[p] == me.pid:  # ours and unreaped: the pid is still its own
                try:
                    os.waitpid(p.pid, 0)
                except ChildProcessError:
                    pass
        time.sleep(0.01)  # let the orphans of the killed be reparented here
    return len(found)


def _group_of(pid):
    """The process group of our unreaped child pid: its own after setsid (the
    runner's sessions), another's for an adopted daemon whose leader exited."""
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return pid


def _signal_group(pgid, sig):
    if pgid == os.getpgrp():  # never our own group (an adopted child that stayed in it)
        return
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is empty


def _kill(procs):
    for p in procs:
        try:
            if p.is_running():  # the same process (pid and start time), not a reuse
                p.kill()
        except psutil.Error:
            pass


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
