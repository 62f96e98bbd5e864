"""perfkit.Sampler: RSS and CPU of one process, sampled by the C++ sampler on
its own thread (the GIL is free while it runs), and optionally its whole tree.

    with perfkit.Sampler(pid, hz=100, children=True) as s:
        ...                      # the workload
    s.series()                   # NumPy columns, views of the sampler's storage
    s.summary()                  # peak/mean/percentile RSS, CPU %, samples, missed

CPU is nanosecond CPU time from clock_getcpuclockid(pid) (every thread's
sum_exec_runtime), not stat's 10 ms ticks; 100 % is one core.

children=True adds a second native thread that walks the descendants
(/proc/PID/task/*/children) at tree_hz and sums their PSS, USS and CPU into
the tree_* figures: RSS summed over a tree counts shared pages once per
process. pss=True alone gives the PSS and USS of the one process.
"""
import numpy as np

try:
    from . import _native
except ImportError as e:  # the build places it here; say how to get it
    raise ImportError("perfkit._native is not built: run ci/test.sh (or cmake --build build), "
                      "which places it in harness/perfkit/") from e

# cpu_max_percent is taken over windows at least this long: shorter ones are
# dominated by when the kernel happened to run the process.
CPU_WINDOW_S = 0.1


class Sampler:
    def __init__(self, pid, hz=100.0, children=False, pss=None, tree_hz=1.0, slow_hz=10.0,
                 max_seconds=3600.0):
        """pid: the process; hz: RSS and CPU samples a second (1 to 10,000);
        children: also sample every descendant, as a tree, at tree_hz;
        pss: PSS and USS from smaps_rollup (default: with children) at tree_hz.
        Raises ProcessLookupError for no such pid, PermissionError when it may not
        be read (PSS needs the right to ptrace it)."""
        self.pid, self.hz, self.children = int(pid), float(hz), bool(children)
        self.pss = self.children if pss is None else bool(pss)
        self._native = _native.Sampler(self.pid, self.hz, float(slow_hz), float(max_seconds))
        self._tree = None
        if self.children or self.pss:
            self._tree = _native.TreeSampler(self.pid, float(tree_hz), self.children, self.pss,
                                             float(max_seconds))
        self._running = False

    def start(self):
        self._native.start()
        if self._tree:
            self._tree.start()
        self._running = True
        return self

    def stop(self):
        if self._running:
            self._native.stop()
            if self._tree:
                self._tree.stop()
            self._running = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def series(self):
        """{column: numpy array}; t, slow_t and tree_t are seconds since start.
        Read after stop()."""
        if self._running:
            raise RuntimeError("stop the sampler before reading its series")
        columns = self._native.columns()
        if self._tree:
            columns.update({f"tree_{k}": v for k, v in self._tree.columns().items()})
        return columns

    def summary(self, start=None, end=None):
        """The figures over the whole run, or over the window [start, end] in
        seconds since start() (a phase of a scenario). A window's peak is its
        largest sample; only the whole run's includes the kernel's VmHWM.
        missed, exited and the sampler's own CPU always describe the whole run.
        CPU figures are None when fewer than two samples allow no rate."""
        s = self.series()
        whole = start is None and end is None
        t, rss, cpu = _window(s["t"], start, end, s["rss_bytes"], s["cpu_ns"])
        n = len(t)
        sampled_peak = int(rss.max()) if n else 0
        out = {
            "samples": n,
            "missed": int(self._native.missed),
            "duration_s": float(self._native.duration_s) if whole else
            float(t[-1] - t[0]) if n else 0.0,
            "exited": bool(self._native.exited),
            "exit_t": float(self._native.exit_t) if self._native.exited else None,
            "truncated": bool(self._native.truncated),
            # Reads whose text did not parse: skipped, never taken for a 0.
            "malformed": int(self._native.malformed),
            # The kernel's own peak (VmHWM) catches what falls between samples.
            "peak_rss_bytes": max(sampled_peak, int(self._native.hwm_bytes)) if whole
            else sampled_peak,
            "hwm_bytes": int(self._native.hwm_bytes),
            # The sampling thread's own CPU over the whole run, % of a core.
            "sampler_cpu_percent": _share(self._native.self_cpu_s, self._native.duration_s),
        }
        out.update(_distribution(rss, "rss_bytes"))
        out["cpu_mean_percent"], out["cpu_max_percent"] = _cpu_percent(t, cpu.astype(np.float64))
        if self._tree:
            out.update(self._tree_summary(s, start, end))
        return out

    def _tree_summary(self, s, start, end):
        """The tree's figures as tree_* (children=True), or the one process's PSS
        and USS (pss=True alone)."""
        p = "tree_" if self.children else ""
        t, pss, uss, procs, denied, rss_sum, cpu, walk = _window(
            s["tree_t"], start, end, s["tree_pss_bytes"], s["tree_uss_bytes"], s["tree_procs"],
            s["tree_denied"], s["tree_rss_sum_bytes"], s["tree_cpu_ns"], s["tree_walk_ns"])
        n = len(t)
        out = {f"{p}samples": n, f"{p}missed": int(self._tree.missed),
               f"{p}walk_ms_max": float(walk.max()) / 1e6 if n else 0.0,
               f"{p}sampler_cpu_percent": _share(self._tree.self_cpu_s, self._tree.duration_s)}
        if self.pss:
            out.update({f"{p}{k}": v for k, v in _distribution(pss, "pss_bytes").items()})
            out[f"{p}peak_pss_bytes"] = int(pss.max()) if n else 0
            out[f"{p}peak_uss_bytes"] = int(uss.max()) if n else 0
        if self.children:
            mean, peak = _cpu_percent(t, cpu.astype(np.float64))
            out.update(tree_procs_max=int(procs.max()) if n else 0,
                       tree_denied_max=int(denied.max()) if n else 0,
                       tree_malformed_max=int(s["tree_malformed"].max())
                       if len(s["tree_malformed"]) else 0,
                       tree_peak_rss_sum_bytes=int(rss_sum.max()) if n else 0,
                       tree_cpu_mean_percent=mean, tree_cpu_max_percent=peak)
        return out


def _share(cpu_s, wall_s):
    return 100.0 * cpu_s / wall_s if wall_s > 0 else 0.0


def _window(t, start, end, *columns):
    """(t, *columns) cut to start <= t <= end; views, not copies."""
    lo = 0 if start is None else int(np.searchsorted(t, start, side="left"))
    hi = len(t) if end is None else int(np.searchsorted(t, end, side="right"))
    return (t[lo:hi], *(c[lo:hi] for c in columns))


def _distribution(values, unit_name):
    """mean and p50/p95/p99 of a memory column, named e.g. p95_rss_bytes."""
    if not len(values):
        return {f"mean_{unit_name}": 0.0, f"p50_{unit_name}": 0.0, f"p95_{unit_name}": 0.0,
                f"p99_{unit_name}": 0.0}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {f"mean_{unit_name}": float(values.mean()), f"p50_{unit_name}": float(p50),
            f"p95_{unit_name}": float(p95), f"p99_{unit_name}": float(p99)}


def _cpu_percent(t, cpu_ns):
    """(mean, max over windows of CPU_WINDOW_S) as a share of one core, in %;
    (None, None) when there are fewer than two samples."""
    if len(t) < 2 or t[-1] <= t[0]:
        return None, None
    mean = (cpu_ns[-1] - cpu_ns[0]) / (t[-1] - t[0]) / 1e7
    step = max(1, int(np.searchsorted(t, t[0] + CPU_WINDOW_S)))
    dt = t[step:] - t[:-step]
    rates = (cpu_ns[step:] - cpu_ns[:-step]) / np.where(dt > 0, dt, np.inf) / 1e7
    return float(mean), float(rates.max()) if len(rates) else float(mean)
