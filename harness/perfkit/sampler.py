"""perfkit.Sampler: RSS and CPU of one process, sampled by the C++ sampler on
its own thread (the GIL is free while it runs).

    with perfkit.Sampler(pid, hz=100) as s:
        ...                      # the workload
    s.series()                   # NumPy columns, views of the sampler's storage
    s.summary()                  # peak/mean/percentile RSS, CPU %, samples, missed

CPU is nanosecond CPU time from clock_getcpuclockid(pid) (every thread's
sum_exec_runtime), not stat's 10 ms ticks; 100 % is one core.
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
    def __init__(self, pid, hz=100.0, slow_hz=10.0, max_seconds=3600.0):
        """Raises ProcessLookupError for no such pid, PermissionError when it may not be read."""
        self._native = _native.Sampler(int(pid), float(hz), float(slow_hz), float(max_seconds))
        self.pid, self.hz = int(pid), float(hz)
        self._running = False

    def start(self):
        self._native.start()
        self._running = True
        return self

    def stop(self):
        if self._running:
            self._native.stop()
            self._running = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def series(self):
        """{column: numpy array}; t and slow_t are seconds since start. Read after stop()."""
        if self._running:
            raise RuntimeError("stop the sampler before reading its series")
        return self._native.columns()

    def summary(self):
        s = self.series()
        t, rss, cpu = s["t"], s["rss_bytes"], s["cpu_ns"].astype(np.float64)
        n = len(t)
        out = {
            "samples": n,
            "missed": int(self._native.missed),
            "duration_s": float(self._native.duration_s),
            "exited": bool(self._native.exited),
            "exit_t": float(self._native.exit_t) if self._native.exited else None,
            "truncated": bool(self._native.truncated),
            # The kernel's own peak (VmHWM) catches what falls between samples.
            "peak_rss_bytes": int(max(rss.max() if n else 0, self._native.hwm_bytes)),
            "hwm_bytes": int(self._native.hwm_bytes),
        }
        if n:
            p50, p95, p99 = np.percentile(rss, [50, 95, 99])
            out.update(mean_rss_bytes=float(rss.mean()), p50_rss_bytes=float(p50),
                       p95_rss_bytes=float(p95), p99_rss_bytes=float(p99))
        else:
            out.update(mean_rss_bytes=0.0, p50_rss_bytes=0.0, p95_rss_bytes=0.0,
                       p99_rss_bytes=0.0)
        out["cpu_mean_percent"], out["cpu_max_percent"] = _cpu_percent(t, cpu)
        return out


def _cpu_percent(t, cpu_ns):
    """(mean, max over windows of CPU_WINDOW_S) as a share of one core, in %."""
    if len(t) < 2 or t[-1] <= t[0]:
        return 0.0, 0.0
    mean = (cpu_ns[-1] - cpu_ns[0]) / (t[-1] - t[0]) / 1e7
    step = max(1, int(np.searchsorted(t, t[0] + CPU_WINDOW_S)))
    dt = t[step:] - t[:-step]
    rates = (cpu_ns[step:] - cpu_ns[:-step]) / np.where(dt > 0, dt, np.inf) / 1e7
    return float(mean), float(rates.max()) if len(rates) else float(mean)
