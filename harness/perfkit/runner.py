"""Runs a scenario: starts the system under test, waits until it is ready,
samples it through every phase (each with its load and benchmarks), stops
everything, also on Ctrl-C and on failure, and returns one perfkit.run/1."""
import contextlib
import json
import math
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import importers, runfile
from .errors import RunError
from .processes import SETPRIV_MISSING, Children, has_setpriv, wait_for
from .sampler import Sampler
from .scenario import BENCH_FORMATS, Placeholders, expand
from .sut import Sut

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
    def __init__(self, scenario, build_dir, repo, progress, signals):
        self.s, self.progress, self.signals = scenario, progress, signals
        self.build_dir, self.repo = Path(build_dir).resolve(), Path(repo).resolve()
        if not has_setpriv():  # before anything is made that would be left behind
            raise RunError(SETPRIV_MISSING)
        self.tmp = Path(tempfile.mkdtemp(prefix=f"perfkit-{scenario.name}-"))
        self.values = Placeholders(tmp=str(self.tmp), bin=str(self.build_dir / "bin"),
                                   repo=str(self.repo), port=str(_free_loopback_port()))
        self.children = Children(self.tmp)
        self.metrics, self.windows = [], []
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

    def start_load(self, phase):
        """loadgen run with the phase's options, held until the phase ends."""
        ready = self.tmp / f"{phase.name}.loadgen-ready.json"
        summary = self.tmp / f"{phase.name}.loadgen.json"
        argv = [self.build_dir / "bin" / "loadgen", "run", "--quiet", "--duration", "1e9",
                "--ready-file", ready, "--json", summary]
        for key, value in phase.load.items():
            argv += [f"--{key.replace('_', '-')}", value]
        load = self.start(f"{phase.name}.loadgen", argv)
        started = time.monotonic()
        if not wait_for(ready.exists, phase.load_ready_timeout_s,
                        alive=lambda: load.running() and self.sut.running()):
            self.sut.check(f"while the load of phase {phase.name} came up")
            raise RunError(f"phase {phase.name}: the load was not up within "
                           f"{phase.load_ready_timeout_s} s; loadgen said:\n{load.log_tail()}")
        live = json.loads(ready.read_text())["live"]
        if live < phase.load["count"]:  # every start done, some failed: not the load asked for
            raise RunError(f"phase {phase.name}: loadgen has {live} of the "
                           f"{phase.load['count']} processes asked up; loadgen said:\n"
                           f"{load.log_tail()}")
        self.progress.say(f"  load up: {live} processes in {time.monotonic() - started:.2f} s")
        return load, summary

    def stop_load(self, phase, load, summary):
        status = self.children.stop(load, signal.SIGTERM, timeout_s=60)
        # Stopped by our SIGTERM (128 + 15) is how a held load ends.
        if status not in (0, 128 + signal.SIGTERM, -signal.SIGTERM) or not summary.exists():
            raise RunError(f"phase {phase.name}: loadgen ended with status {status}:\n"
                           f"{load.log_tail()}")
        self.metrics += importers.from_loadgen([summary], prefix=f"{phase.name}.loadgen")

    def run_benchmark(self, phase, bench):
        prefix = f"{phase.name}.{bench.name}"
        out = self.tmp / f"{prefix}.json"
        values = Placeholders(self.values, out=str(out), repetitions=str(bench.repetitions))
        argv = expand(bench.command, values)
        if not shutil.which(argv[0]):
            raise RunError(f"benchmark {prefix}: {argv[0]!r} is not found or not executable")
        by_tool = BENCH_FORMATS[bench.format] == "tool"
        walls, texts = [], []
        for rep in range(1 if by_tool else bench.repetitions):
            self.progress.say(f"  benchmark {bench.name}"
                              + ("" if by_tool else f" ({rep + 1}/{bench.repetitions})"))
            started = time.monotonic()
            child = self.start(prefix, argv)
            if not child.wait(bench.timeout_s):
                self.children.stop(child)
                raise RunError(f"benchmark {prefix} ran past its timeout_s of "
                               f"{bench.timeout_s:g} s:\n{child.log_tail()}")
            walls.append(time.monotonic() - started)
            status = self.children.stop(child)
            if status != 0:
                raise RunError(f"benchmark {prefix} failed with status {status}:\n"
                               f"{child.log_tail()}")
            texts.append(child.log_path.read_text(errors="replace"))
            self.sut.check(f"during benchmark {prefix}")
        if bench.format == "google-benchmark":
            self.metrics += importers.from_google_benchmark(out, prefix)
        elif bench.format == "hyperfine":
            self.metrics += importers.from_hyperfine(out, prefix)
        elif bench.format == "redis-benchmark":
            self.metrics += importers.from_redis_benchmark(texts, prefix)
        else:
            self.metrics.append(runfile.metric(f"{prefix}.seconds", "s", "lower", walls))

    def run_phase(self, index, phase):
        n = len(self.s.phases)
        self.progress.say(f"[{index + 1}/{n}] phase {phase.name}"
                          + (f" ({phase.seconds:g} s)" if phase.seconds else ""))
        load = self.start_load(phase) if phase.load else None
        command = None
        if phase.command:
            argv = expand(phase.command, self.values)
            if not shutil.which(argv[0]):
                raise RunError(f"phase {phase.name}: {argv[0]!r} is not found or not executable")
            command = self.start(f"{phase.name}.command", argv)
        start = self.now()
        for bench in phase.benchmarks:
            self.run_benchmark(phase, bench)
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
            self.stop_load(phase, *load)

    def sut_metrics(self):
        """Per phase, the SUT's figures over the phase's window."""
        out = []
        for w in self.windows:
            s = self.sampler.summary(w["start_s"], w["end_s"])
            if s["samples"] == 0:
                self.progress.say(f"phase {w['name']}: too short to hold a sample; no SUT figures")
                continue
            p = f"{w['name']}.sut"
            for key, unit in [("peak_rss_bytes", "bytes"), ("mean_rss_bytes", "bytes"),
                              ("p95_rss_bytes", "bytes"), ("cpu_mean_percent", "percent"),
                              ("cpu_max_percent", "percent"), ("tree_peak_pss_bytes", "bytes"),
                              ("tree_mean_pss_bytes", "bytes"), ("tree_cpu_mean_percent", "percent"),
                              ("tree_cpu_max_percent", "percent"), ("peak_pss_bytes", "bytes"),
                              ("mean_pss_bytes", "bytes"), ("peak_uss_bytes", "bytes")]:
                # None: too few samples in the window for a rate (CPU needs two).
                if s.get(key) is not None and (not key.startswith("tree_") or s["tree_samples"]):
                    out.append(runfile.metric(f"{p}.{key}", unit, "lower", [s[key]]))
            w["summary"] = s
        whole = self.sampler.summary()
        if whole["truncated"] or whole.get("tree_truncated"):
            raise RunError(f"the sampler's storage filled before the run ended (sized for "
                           f"{self.max_seconds:.0f} s): the scenario ran far longer than its "
                           "phases' seconds")
        out.append(runfile.metric("run.sut.hwm_bytes", "bytes", "lower", [whole["hwm_bytes"]]))
        return out, whole

def _table(windows, sampling, whole):
    """The run's figures per phase, as the table printed at the end."""
    rows = [("phase", "seconds", "RSS peak", "RSS mean", "CPU mean", "CPU max")]
    tree = sampling.children
    if tree:
        rows[0] += ("tree PSS peak", "tree CPU mean")
    for w in windows:
        s = w.get("summary")
        if not s:
            continue
        row = (w["name"], f"{w['end_s'] - w['start_s']:.1f}", _mb(s["peak_rss_bytes"]),
               _mb(s["mean_rss_bytes"]), _pct(s["cpu_mean_percent"]),
               _pct(s["cpu_max_percent"]))
        if tree:
            row += (_mb(s.get("tree_peak_pss_bytes", 0)),
                    _pct(s.get("tree_cpu_mean_percent")))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in
                       enumerate(zip(r, widths))) for r in rows]
    lines.append(f"samples {whole['samples']} at {sampling.hz:g} Hz, missed "
                 f"{whole['missed']}; VmHWM {_mb(whole['hwm_bytes'])}; the sampler's own "
                 f"CPU {whole['sampler_cpu_percent']:.2f} %"
                 + (f" + tree walks {whole['tree_sampler_cpu_percent']:.2f} %" if tree
                    else ""))
    return "\n".join(lines)


def _mb(n):
    return f"{n / 1e6:.1f} MB"


def _pct(x):
    return "-" if x is None else f"{x:.1f} %"


def run_scenario(scenario, build_dir="build", repo=".", progress=None, series_path=None,
                 restore_signals=True):
    """Runs `scenario` (a scenario.Scenario) and returns the perfkit.run/1 dict.
    Raises RunError on failure and Interrupted on SIGINT/SIGTERM/SIGHUP; either
    way every process it started is gone when it returns. restore_signals=False
    leaves those signals ignored afterwards (a program that ends with the run:
    no late signal changes how it ends)."""
    progress = progress or Progress()
    signals = _Signals()
    r, ok = None, False
    try:
        started = runfile.now_iso()
        r = _Run(scenario, build_dir, repo, progress, signals)
        r.sut.start(r.values)
        r.start_sampler()
        for i, phase in enumerate(scenario.phases):
            r.run_phase(i, phase)
        r.sampler.stop()
        sut_metrics, whole = r.sut_metrics()
        r.sut.stop()
        run = runfile.new_run(build_dir=build_dir, repo=repo, scenario=scenario.name,
                              started=started)
        run["phases"] = [{k: w[k] for k in ("name", "start_s", "end_s")} for w in r.windows]
        runfile.add_metrics(run, sut_metrics + r.metrics)
        if series_path:
            np.savez_compressed(series_path, **r.sampler.series())
        progress.say("done\n" + _table(r.windows, scenario.sampling, whole))
        ok = True
        return run
    finally:
        signals.ignore()  # from here on nothing cuts the cleanup short
        try:
            if r:
                if r.sampler:
                    r.sampler.stop()
                r.children.close()
                if ok:
                    shutil.rmtree(r.tmp, ignore_errors=True)
                else:
                    progress.say(f"logs kept in {r.tmp}")
        finally:
            if restore_signals:
                signals.restore()
