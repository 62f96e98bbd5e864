"""Runs a scenario: starts the system under test, waits until it is ready,
samples it through every phase (each with its load and benchmarks), stops
everything, also on Ctrl-C and on failure, and returns one perfkit.run/1;
repeated, each time from a fresh SUT, the repetitions merged into one."""
import contextlib
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import runfile
from .benchmarks import run_benchmarks
from .end_table import end_table
from .errors import RunError
from .load import Load
from .merge import merge_runs
from .phase_profile import PhaseProfile
from .processes import SETPRIV_MISSING, Children, has_setpriv
from .sampler import Sampler
from .scenario import Placeholders, expand
from .sut import Sut
from .sut_metrics import sut_metrics

__all__ = ["Interrupted", "Progress", "RunError", "run_scenario"]


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP: everything is stopped, no run file is written."""

    def __init__(self, signum):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


class Progress:
    """One line per step on stderr; on a terminal, a live count within a phase."""

    def __init__(self, stream=sys.stderr, quiet=False):
        self.stream, self.quiet = stream, quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._open = False

    def say(self, text):
        if self.quiet:
            return
        if self._open:
            self.stream.write("\n")
            self._open = False
        self.stream.write(f"perfkit: {text}\n")
        self.stream.flush()

    def tick(self, text):
        if self.quiet or not self.tty:
            return
        self.stream.write(f"\rperfkit:   {text}   ")
        self.stream.flush()
        self._open = True


class _Signals:
    """SIGINT, SIGTERM and SIGHUP for the length of a run, one handler in three
    modes: "raise" Interrupted; "defer" it while a child is being started (so
    none runs unregistered) and raise once it is; "ignore" from the first
    signal raised and during cleanup, so a second Ctrl-C can neither cut the
    stopping of children short nor change how the run ends. The previous
    handlers come back only after cleanup, if asked."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self):
        self.mode, self.pending = "raise", None
        self._old = {s: signal.signal(s, self._handle) for s in self.SIGNALS}

    def _handle(self, signum, _frame):
        if self.mode == "raise":
            self.mode = "ignore"  # the first signal decides how the run ends
            raise Interrupted(signum)
        if self.mode == "defer" and self.pending is None:
            self.pending = signum

    @contextlib.contextmanager
    def deferred(self):
        self.mode = "defer"
        try:
            yield
        finally:
            if self.mode == "defer":
                self.mode = "raise"
        if self.pending is not None:
            self.mode = "ignore"
            raise Interrupted(self.pending)

    def ignore(self):
        self.mode = "ignore"

    def restore(self):
        for s, h in self._old.items():
            signal.signal(s, h)


def _free_loopback_port():
    """A TCP port free on 127.0.0.1 now (the kernel's pick): no fixed port to collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Run:
    """One run's state (its directory, placeholders, children, SUT, sampler)
    and the order of a phase's events; the load, the benchmarks and the
    figures are their own modules' jobs, handed this run for what they share."""

    def __init__(self, scenario, build_dir, repo, progress, signals, profile_dir=None):
        self.s, self.progress, self.signals = scenario, progress, signals
        self.profile_dir = profile_dir
        self.build_dir, self.repo = Path(build_dir).resolve(), Path(repo).resolve()
        if not has_setpriv():  # before anything is made that would be left behind
            raise RunError(SETPRIV_MISSING)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"perfkit-{scenario.name}-"))
        self.values = Placeholders(tmp=str(self.tmp), bin=str(self.build_dir / "bin"),
                                   repo=str(self.repo), port=str(_free_loopback_port()))
        self.children = Children(self.tmp)
        self.metrics, self.windows, self.attachments = [], [], []
        self.sut = Sut(scenario.sut, scenario.name, self.children, self.start, progress)
        self.sampler = None
        self.t0 = 0.0

    def now(self):
        return time.monotonic() - self.t0

    def start(self, name, argv, env=None):
        with self.signals.deferred():  # a Ctrl-C now lands once the child is registered
            return self.children.start(name, argv, env)

    def start_sampler(self):
        sm = self.s.sampling
        planned = sum(p.seconds for p in self.s.phases)
        # Benchmarks and until = "exit" add time the plan does not know: a margin.
        self.max_seconds = max(3600.0, 2 * planned + 600)
        self.sampler = Sampler(self.sut.pid, hz=sm.hz, children=sm.children, pss=sm.pss,
                               tree_hz=sm.tree_hz, max_seconds=self.max_seconds)
        self.t0 = time.monotonic()
        self.sampler.start()

    def run_phase(self, index, phase):
        n = len(self.s.phases)
        self.progress.say(f"[{index + 1}/{n}] phase {phase.name}"
                          + (f" ({phase.seconds:g} s)" if phase.seconds else ""))
        load = Load(self, phase).start() if phase.load else None
        command = None
        if phase.command:
            argv = expand(phase.command, self.values)
            if not shutil.which(argv[0]):
                raise RunError(f"phase {phase.name}: {argv[0]!r} is not found or not executable")
            command = self.start(f"{phase.name}.command", argv)
        profile = None
        if phase.profile:
            if self.profile_dir is None:
                raise RunError(f"phase {phase.name}: a profile needs a directory for its files")
            profile = PhaseProfile(self, phase, Path(self.profile_dir) / phase.name)
            profile.start()
        start = self.now()
        self.metrics += run_benchmarks(self, phase)
        if phase.until == "exit":
            limit = phase.seconds or math.inf
            while command.running() and self.now() - start < limit:
                self.sut.check(f"during phase {phase.name}")
                self.progress.tick(f"{self.now() - start:6.1f} s, waiting for "
                                   f"{Path(phase.command[0]).name} to finish")
                time.sleep(0.05)
            if command.running():
                raise RunError(f"phase {phase.name}: its command ran past {phase.seconds:g} s")
        else:
            while self.now() - start < phase.seconds:
                self.sut.check(f"during phase {phase.name}")
                self.progress.tick(f"{self.now() - start:6.1f} / {phase.seconds:g} s")
                time.sleep(min(0.1, max(0.0, phase.seconds - (self.now() - start))))
        end = self.now()
        self.sut.check(f"during phase {phase.name}")
        self.windows.append({"name": phase.name, "start_s": start, "end_s": end})
        if profile:
            metrics, attachments = profile.stop()
            self.metrics += metrics
            self.attachments += attachments
        if command:
            exited = not command.running()
            status = self.children.stop(command)
            if exited and status != 0:
                raise RunError(f"phase {phase.name}: its command failed with status {status}:\n"
                               f"{command.log_tail()}")
            if phase.until == "exit":
                self.metrics.append(runfile.metric(f"{phase.name}.command_seconds", "s", "lower",
                                                   [end - start]))
        if load:
            self.metrics += load.stop()


def run_scenario(scenario, build_dir="build", repo=".", progress=None, series_path=None,
                 restore_signals=True, repetitions=1, profile_dir=None):
    """Runs `scenario` (a scenario.Scenario) `repetitions` times, each with a
    SUT of its own, and returns the perfkit.run/1 dict of them all (merge_runs:
    every metric keeps each repetition's samples as a process run of its own).
    Raises RunError on failure and Interrupted on SIGINT/SIGTERM/SIGHUP; either
    way every process it started is gone when it returns, and no series file
    is written. restore_signals=False leaves those signals ignored afterwards
    (a program that ends with the run: no late signal changes how it ends).
    profile_dir: where the profiles of phases that ask for one go (DIR/PHASE;
    DIR/K/PHASE with repetitions); needed only if one does."""
    progress = progress or Progress()
    signals = _Signals()
    series = _series_paths(series_path, repetitions)
    runs, parts, ok = [], [], False
    try:
        for k in range(repetitions):
            if repetitions > 1:
                progress.say(f"repetition {k + 1}/{repetitions}")
            part = series[k].with_name(series[k].name + ".part") if series else None
            if part:
                parts.append((part, series[k]))  # before it is written: gone if it fails
            done = f"repetition {k + 1}/{repetitions} done" if repetitions > 1 else "done"
            profiles = None
            if profile_dir is not None:
                profiles = Path(profile_dir) / (f"{k + 1}" if repetitions > 1 else "")
            runs.append(_repetition(scenario, build_dir, repo, progress, signals, part, done,
                                    last=k == repetitions - 1, profile_dir=profiles))
        if repetitions == 1:
            run = runs[0]  # as it was: metrics without a runs key unless they had one
        else:
            run = merge_runs(runs)
            # Each repetition's windows, in its own seconds (its series' time axis).
            run["phases"] = [{**ph, "repetition": k + 1} for k, one in enumerate(runs)
                             for ph in one["phases"]]
            attachments = [{**a, "repetition": k + 1} for k, one in enumerate(runs)
                           for a in one.get("attachments", [])]
            if attachments:
                run["attachments"] = attachments
        for part, final in parts:
            os.replace(part, final)
        ok = True
        return run
    finally:
        signals.ignore()  # from here on nothing cuts the cleanup short
        try:
            if not ok:
                for part, _ in parts:
                    part.unlink(missing_ok=True)
        finally:
            if restore_signals:
                signals.restore()


def _series_paths(series_path, repetitions):
    """Where each repetition's samples go: F.npz as asked for one repetition,
    F.1.npz, F.2.npz, ... for more (numpy's naming: .npz added if missing)."""
    if not series_path:
        return None
    p = Path(series_path)
    if p.suffix != ".npz":
        p = p.with_name(p.name + ".npz")
    if repetitions == 1:
        return [p]
    return [p.with_name(f"{p.stem}.{k + 1}.npz") for k in range(repetitions)]


def _repetition(scenario, build_dir, repo, progress, signals, series_part, done, last,
                profile_dir=None):
    """One run of the scenario, from a fresh SUT to every process stopped; its
    samples go to series_part (renamed once the whole run succeeded)."""
    r, ok = None, False
    try:
        started = runfile.now_iso()
        r = _Run(scenario, build_dir, repo, progress, signals, profile_dir)
        r.sut.start(r.values)
        r.start_sampler()
        for i, phase in enumerate(scenario.phases):
            r.run_phase(i, phase)
        r.sampler.stop()
        phase_metrics, whole = sut_metrics(r.sampler, r.windows, r.max_seconds, progress)
        r.sut.stop()
        run = runfile.new_run(build_dir=build_dir, repo=repo, scenario=scenario.name,
                              started=started)
        run["phases"] = [{k: w[k] for k in ("name", "start_s", "end_s")} for w in r.windows]
        runfile.add_metrics(run, phase_metrics + r.metrics)
        if series_part:
            with open(series_part, "wb") as f:  # a file object: numpy adds no .npz
                np.savez_compressed(f, **r.sampler.series())
            r.attachments.insert(0, {"kind": "series", "name": scenario.name,
                                     "path": str(series_part.with_name(
                                         series_part.name.removesuffix(".part"))),
                                     "phases": run["phases"]})
        if r.attachments:
            run["attachments"] = r.attachments
        progress.say(f"{done}\n" + end_table(r.windows, scenario.sampling, whole))
        ok = True
        return run
    finally:
        # A failed repetition ends the run: signals are ignored from here on,
        # the first one decided. After a good one that is not the last, a
        # signal waits for its cleanup, then stops the run before the next.
        if ok and not last:
            with signals.deferred():
                _clean_up(r, ok, progress)
        else:
            signals.ignore()
            _clean_up(r, ok, progress)


def _clean_up(r, ok, progress):
    if r:
        if r.sampler:
            r.sampler.stop()
        r.children.close()
        if ok:
            shutil.rmtree(r.tmp, ignore_errors=True)
        else:
            progress.say(f"logs kept in {r.tmp}")
