"""Records a program, or a running process, with heaptrack until it ends or
is told to stop (SIGTERM, SIGINT, SIGHUP), and stops it so that nothing is
left behind.

heaptrack (1.4, /usr/bin/heaptrack) is a /bin/sh script: it makes a fifo
/tmp/heaptrack_fifo<its pid>, starts `heaptrack_interpret < fifo | zstd -c >
OUT.zst` in the background, then either runs the program with
libheaptrack_preload.so preloaded, or injects libheaptrack_inject.so into a
running process through gdb and waits for the interpreter; on its way out
(`trap cleanup EXIT`) it calls heaptrack_stop() in the process through gdb
and removes the fifo. But dash runs an EXIT trap only on a normal exit: a
SIGTERM or SIGINT to the script kills it alone, and leaves the program (or
the injection), the interpreter, zstd and the fifo behind. So the script
is never signalled here; instead a stop:

- of a program heaptrack started: sends SIGTERM to that program (the
  script's child with DUMP_HEAPTRACK_OUTPUT in its environment, which the
  script sets for it alone), SIGKILL after `grace` seconds; the script then
  ends by itself;
- of an attached process: waits for the injection to finish (the script
  says "injection finished"), calls heaptrack_stop() in the process through
  gdb, as the script's cleanup does, so that the process closes the fifo and
  the interpreter ends; the script then ends by itself (and calls
  heaptrack_stop again: harmless, it returns at once).

The script runs in a session of its own, so that a Ctrl-C reaches this
supervisor (which stops it as above), not the script. If the script has not
ended `grace` seconds after the stop (or the injection has not finished by
then), its session is killed; whatever it started that is still alive then
is killed, and the fifo removed. An attached process that dies before
anything was written (the injection can crash it) ends the run at once.
"""
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

INJECT_LIB = "libheaptrack_inject"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class RecordError(Exception):
    """The recording failed: one line saying why."""


@dataclass
class Result:
    """`file`: the recording. `mode`: "command" or "attach". `pid`: the
    process recorded. `stopped`: the recording was stopped (a signal to
    this supervisor) before the program ended by itself. `exit_status`: the
    program's, as the shell reports it (128 + N for a signal N; command mode
    only). `seconds`: how long the recording ran, wall clock."""
    file: str
    mode: str
    pid: int = None
    stopped: bool = False
    exit_status: int = None
    seconds: float = None

    def as_json(self):
        return asdict(self)


def outputs(base):
    """The files heaptrack may write for `-o base`: zstd when it is
    installed, else gzip."""
    base = Path(base)
    return [base.with_name(base.name + suffix) for suffix in (".zst", ".gz")]


def check_base(base):
    """heaptrack's script reads -o through unquoted expansions: a path with
    blanks or glob characters breaks in it."""
    bad = set(" \t\n*?[]") & set(str(base))
    if bad:
        raise RecordError(f"heaptrack's script cannot write to a path with {sorted(bad)!r} in it: "
                          f"{base}")


def record(base, command=None, pid=None, grace=30.0, ready=None, seconds=None,
           heaptrack="heaptrack", gdb="gdb", log=None, poll=0.1):
    """Runs heaptrack -o base on `command` (a list) or `pid` until it ends, a
    stop signal arrives, or it has recorded for `seconds`; creates the file
    `ready` (if given) once heaptrack records: the program runs with
    heaptrack's library, or the injection is done (seconds count from then:
    an injection can take seconds of its own). Returns a Result; raises
    RecordError."""
    log = log or sys.stderr
    if (command is None) == (pid is None):
        raise ValueError("give a command or a pid")
    base = Path(base).absolute()
    check_base(base)
    for stale in outputs(base):  # an old recording must not pass for this one
        stale.unlink(missing_ok=True)
    argv = [heaptrack, "-o", str(base)]
    argv += ["-p", str(pid)] if pid is not None else ["--", *command]

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in STOP_SIGNALS}
    started = time.monotonic()
    try:
        run = _Run(argv, base, pid, grace, gdb, log, stop, ready, seconds)
        status = run.wait(poll)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    seconds = time.monotonic() - started

    if run.attach_failed:
        raise RecordError(f"heaptrack could not attach to process {pid} (gdb's words are above)")
    if run.target_died:
        raise RecordError(f"process {pid} ended while heaptrack attached to it: nothing recorded")
    found = [p for p in outputs(base) if p.is_file() and p.stat().st_size > 0]
    if not found:
        raise RecordError(f"heaptrack wrote no recording (exit {status}; what it said is above)")
    result = Result(str(found[0]), "attach" if pid is not None else "command",
                    pid if pid is not None else run.program.pid, run.stopped,
                    status if pid is None else None, round(seconds, 3))
    return result


class _Leftovers:
    """What the heaptrack script starts (its interpreter, zstd), each known by
    pid and start time, so that after a kill whatever lives on is ended, never
    another process that took a reused pid; and the script's fifo removed."""

    def __init__(self, script_pid, log):
        self.script_pid, self.log = script_pid, log
        self.started = {}  # pid -> start time

    def remember(self):
        for child in _children(self.script_pid):
            if child not in self.started:
                start = _start_time(child)
                if start is not None:
                    self.started[child] = start

    def end(self, keep=None):
        """Normally a no-op: the script waited for its interpreter. keep: the
        program heaptrack started, which is not heaptrack's to end."""
        left = [p for p, start in self.started.items()
                if p != keep and _start_time(p) == start]
        for p in left:
            self.log.write(f"heaptrack left process {p} behind: ending it\n")
            _signal(p, signal.SIGTERM)
        deadline = time.monotonic() + 2
        while any(_start_time(p) == self.started[p] for p in left) and time.monotonic() < deadline:
            time.sleep(0.05)
        for p in left:
            if _start_time(p) == self.started[p]:
                _signal(p, signal.SIGKILL)
        for fifo in (f"/tmp/heaptrack_fifo{self.script_pid}",
                     f"/tmp/heaptrack_fifo{self.script_pid}.lock"):
            try:
                os.unlink(fifo)
            except FileNotFoundError:
                pass
            except OSError as e:
                self.log.write(f"cannot remove {fifo}: {e}\n")


class _Program:
    """The program the script started (command mode): its child whose
    environment holds DUMP_HEAPTRACK_OUTPUT (the fifo), set for it alone;
    known by pid and start time, since a pid the script reaped may be
    another's now."""

    def __init__(self, script_pid):
        self.script_pid = script_pid
        self.pid = self.start = None

    def find(self):
        """Its pid, once it has started; else None."""
        if self.pid is None:
            for child in _children(self.script_pid):
                try:
                    environ = Path(f"/proc/{child}/environ").read_bytes()
                except OSError:
                    continue
                if b"\0DUMP_HEAPTRACK_OUTPUT=" in b"\0" + environ:
                    self.pid, self.start = child, _start_time(child)
                    break
        return self.pid

    def alive(self):
        return self.pid is not None and _start_time(self.pid) == self.start


class _Run:
    """One run of the heaptrack script, and the stop of it."""

    def __init__(self, argv, base, pid, grace, gdb, log, stop, ready, seconds):
        self.pid, self.grace, self.gdb, self.log, self.stop = pid, grace, gdb, log, stop
        self.ready, self.seconds = ready, seconds
        self.recording_since = None
        self.injected = threading.Event()
        self.stopped = False
        self.attach_failed = self.target_died = False
        self.target_gone_at = None
        self.recording = False
        self.base = base
        try:
            self.script = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise RecordError(f"cannot run {argv[0]}: {e}") from None
        # The script's words (and in command mode the program's stdout) go on
        # to stderr: stdout is the summary's.
        self.reader = threading.Thread(target=self._forward, daemon=True)
        self.reader.start()
        self.leftovers = _Leftovers(self.script.pid, log)
        self.program = _Program(self.script.pid)

    def _forward(self):
        for line in iter(self.script.stdout.readline, b""):
            if line.strip() == b"injection finished":
                self.injected.set()
            try:
                self.log.write(line.decode(errors="replace"))
                self.log.flush()
            except (OSError, ValueError):
                pass

    def wait(self, poll):
        acted_at = stop_seen_at = None  # when the stop was carried out, asked for
        killed = False
        while True:
            try:
                status = self.script.wait(timeout=poll)
                break
            except subprocess.TimeoutExpired:
                pass
            self.leftovers.remember()
            if self.pid is None:
                if self.program.find() is not None:  # its pid goes in the Result too
                    self._recording()
            elif self.injected.is_set() and not (self.recording or self.attach_failed):
                if _mapped(self.pid, INJECT_LIB):
                    self._recording()
                elif _alive(self.pid):
                    # gdb could not inject: the interpreter would wait on the
                    # fifo for ever.
                    self.attach_failed = True
                    self.stop.set()
            if self.pid is not None and self._target_died_unrecorded():
                self.log.write(f"process {self.pid} ended before heaptrack recorded anything "
                               f"(attaching can crash a process: gdb's words are above)\n")
                self.target_died = True
                _killpg(self.script.pid)
                status = self.script.wait()
                break
            if (self.seconds is not None and self.recording_since is not None
                    and time.monotonic() - self.recording_since >= self.seconds):
                self.stop.set()
            if self.stop.is_set() and stop_seen_at is None:
                stop_seen_at = time.monotonic()
            if self.stop.is_set() and acted_at is None:
                if self._carry_out_stop():
                    acted_at = time.monotonic()
                elif time.monotonic() - stop_seen_at > self.grace:
                    # The injection never finished (or never said so).
                    self.log.write(f"heaptrack was not recording {self.grace:g} s after the "
                                   f"stop: killing what it started\n")
                    _killpg(self.script.pid)
                    status = self.script.wait()
                    break
            elif acted_at is not None and time.monotonic() - acted_at > self.grace:
                if self.pid is None and not killed and self.program.alive():
                    self.log.write(f"the program did not end {self.grace:g} s after SIGTERM: "
                                   "SIGKILL\n")
                    _signal(self.program.pid, signal.SIGKILL)
                    killed, acted_at = True, time.monotonic()
                    continue
                self.log.write(f"heaptrack did not end {self.grace:g} s after the stop: "
                               f"killing what it started\n")
                _killpg(self.script.pid)
                status = self.script.wait()
                break
        self.reader.join(timeout=5)
        self.leftovers.end(keep=self.program.pid)
        return status

    def _recording(self):
        """heaptrack records now: say so, once."""
        if self.recording:
            return
        self.recording = True
        self.recording_since = time.monotonic()
        if self.ready is not None:
            try:
                Path(self.ready).touch()
            except OSError as e:
                self.log.write(f"cannot create {self.ready}: {e}\n")

    def _target_died_unrecorded(self):
        """The attached process is gone and, 5 s on, nothing was written: it
        died before heaptrack's library opened the fifo (in the injection),
        so the interpreter waits to open it for ever."""
        if _alive(self.pid):
            return False
        if self.target_gone_at is None:
            self.target_gone_at = time.monotonic()
        return (time.monotonic() - self.target_gone_at > 5
                and not any(p.is_file() and p.stat().st_size for p in outputs(self.base)))

    def _carry_out_stop(self):
        """True once the stop is under way (a program signalled, an attached
        process told to stop); False to try again at the next poll."""
        if self.attach_failed:
            _killpg(self.script.pid)
            return True
        if self.pid is None:
            if self.program.find() is None:
                return False  # not started yet
            if self.program.alive():
                self.stopped = True
                _signal(self.program.pid, signal.SIGTERM)
            return True
        if not self.injected.is_set():
            return False  # gdb is still injecting: stopping now would race it
        self.stopped = True
        if _alive(self.pid):
            self._heaptrack_stop()
        return True

    def _heaptrack_stop(self):
        """What the script's cleanup does, now."""
        env = {k: v for k, v in os.environ.items() if k != "DEBUGINFOD_URLS"}
        try:
            subprocess.run([self.gdb, "--batch-silent", "-n", "-iex", "set auto-solib-add off",
                            "-p", str(self.pid), "--eval-command", f"sharedlibrary {INJECT_LIB}",
                            "--eval-command", "call (void) heaptrack_stop()",
                            "--eval-command", "detach"],
                           stdin=subprocess.DEVNULL, stdout=self.log.fileno(),
                           stderr=self.log.fileno(), env=env, timeout=self.grace)
        except (OSError, subprocess.TimeoutExpired, ValueError) as e:
            self.log.write(f"gdb could not stop heaptrack in process {self.pid}: {e}\n")


def _children(pid):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            out += [int(c) for c in text.split()]
    except OSError:
        pass
    return out


def _start_time(pid):
    """The process's start time in clock ticks (field 22 of stat): with the
    pid, what tells it from a later process given the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[19]) if fields[0] != "Z" else None


def _alive(pid):
    return _start_time(pid) is not None


def _mapped(pid, library):
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _killpg(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
