"""leakcheck's rounds: each a stretch of load on a running daemon (loadgen,
the same options and seed every round), then a quiet settle, then a reading.
Read at the same point of every round (the load torn down, the daemon back at
rest), the readings differ only by what the daemon kept: a leak.

RSS comes from perfkit's Sampler (statm, exact), sampled through the whole
run; a round's reading is its last sample before the round's mark. The marks
are kept in wall-clock time too, for the heap in use that heaptrack recorded
(growth_heap.py reads it once the daemon has stopped).
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil

from ..sampler import Sampler

SAMPLE_HZ = 10.0
LOADGEN_GRACE_S = 60.0  # past its duration: its teardown of every child


class RoundsError(RuntimeError):
    """The rounds could not go on: the daemon died, loadgen failed."""


class _StopFlag:
    """SIGTERM or SIGINT: finish the round's bookkeeping and stop, so that the
    rounds done so far are still written and judged."""

    def __init__(self):
        self.signal = None
        self._old = {}

    def __enter__(self):
        for s in (signal.SIGTERM, signal.SIGINT):
            self._old[s] = signal.signal(s, self._set)
        return self

    def _set(self, signum, _frame):
        self.signal = signum

    def __exit__(self, *exc):
        for s, handler in self._old.items():
            signal.signal(s, handler)
        return False

    def __bool__(self):
        return self.signal is not None


def _say(text):
    print(f"leakcheck: {text}", file=sys.stderr, flush=True)


def _mb(n):
    return f"{n / 1e6:.2f} MB"


def run(pid, rounds, round_seconds, settle_seconds, load_argv, out_dir, warmup=0):
    """Runs `rounds` rounds on process `pid` and returns what rounds.json
    holds. load_argv: loadgen's command without --duration and --json (None:
    no load, each round only waits). Raises RoundsError when it cannot go on."""
    out_dir = Path(out_dir)
    try:
        proc = psutil.Process(pid)
        started_wall = proc.create_time()
        command = proc.cmdline()
    except psutil.NoSuchProcess as e:
        raise RoundsError(f"no process {pid}") from e
    per_round = round_seconds + settle_seconds + (LOADGEN_GRACE_S if load_argv else 0)
    try:
        sampler = Sampler(pid, hz=SAMPLE_HZ, max_seconds=max(3600.0, 2 * rounds * per_round))
    except ProcessLookupError as e:  # it ended a moment ago (or is a zombie)
        raise RoundsError(f"no process {pid}: {e}") from e
    record = {"pid": pid, "command": command, "daemon_started_wall": started_wall,
              "round_seconds": round_seconds, "settle_seconds": settle_seconds,
              "warmup_rounds": warmup, "load": [str(a) for a in load_argv] if load_argv else None,
              "rounds": [], "stopped_early": None, "daemon_exited": False}
    marks = []
    with _StopFlag() as stop:
        sampler.start()
        t0 = time.monotonic()
        try:
            for n in range(1, rounds + 1):
                status = _one_round(n, load_argv, round_seconds, settle_seconds, out_dir, stop,
                                    sampler)
                if sampler._native.exited:
                    raise RoundsError(f"the daemon (pid {pid}) exited during round {n}")
                if status is None:
                    break
                marks.append((n, time.monotonic() - t0, time.time(), status))
                kind = "warm-up round" if n <= warmup else "round"
                _say(f"{kind} {n} of {rounds} done")
        finally:
            sampler.stop()
        if stop:
            record["stopped_early"] = signal.Signals(stop.signal).name
    series = sampler.series()
    t, rss = series["t"], series["rss_bytes"]
    for n, mark_s, mark_wall, status in marks:
        i = int(np.searchsorted(t, mark_s, side="right")) - 1
        if i < 0:
            raise RoundsError(f"round {n}: no RSS sample before its end")
        record["rounds"].append({"round": n, "mark_s": mark_s, "mark_wall": mark_wall,
                                 "rss_bytes": int(rss[i]), "loadgen_status": status})
    summary = sampler.summary()
    record["daemon_exited"] = summary["exited"]
    record["sampler"] = {k: summary[k] for k in ("samples", "missed", "peak_rss_bytes",
                                                 "cpu_mean_percent", "cpu_max_percent",
                                                 "duration_s")}
    return record


def _one_round(n, load_argv, round_seconds, settle_seconds, out_dir, stop, sampler):
    """The round's load and settle. Returns loadgen's exit status (0 without
    load), or None when stopped before the round's end."""
    status = 0
    if load_argv:
        summary = out_dir / f"loadgen-round{n}.json"
        argv = [*map(str, load_argv), "--duration", f"{round_seconds}", "--json", str(summary)]
        with open(out_dir / "loadgen.log", "a") as log:
            log.write(f"# round {n}: {' '.join(argv)}\n")
            log.flush()
            child = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + round_seconds + LOADGEN_GRACE_S
            while child.poll() is None:
                if stop or sampler._native.exited:
                    break
                if time.monotonic() > deadline:
                    raise RoundsError(f"round {n}: loadgen did not end within "
                                      f"{LOADGEN_GRACE_S:.0f} s of its duration")
                time.sleep(0.05)
        finally:
            if child.poll() is None:  # its children die with it (PR_SET_PDEATHSIG)
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        if stop:
            return None
        status = child.returncode
        # 3: some starts shed (loadgen fell behind): the load was lighter, not wrong.
        if status not in (0, 3):
            raise RoundsError(f"round {n}: loadgen exited {status}; its output is in "
                              f"{out_dir / 'loadgen.log'}")
    else:
        if _sleep(round_seconds, stop, sampler):
            return None
    if _sleep(settle_seconds, stop, sampler):
        return None
    return status


def _sleep(seconds, stop, sampler):
    """Sleeps; True when stopped (a signal, or the daemon gone) meanwhile."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if stop or sampler._native.exited:
            return True
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))
    return bool(stop)


def write(record, path):
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(tmp, path)
