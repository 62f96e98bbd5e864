"""The SUT's metrics: the sampler's summary over each phase's window, and the
whole run's VmHWM."""
from . import runfile
from .errors import RunError

# The summary's keys kept per phase, with their units; tree_ keys only when the
# tree was sampled in the window.
_PHASE_KEYS = [("peak_rss_bytes", "bytes"), ("mean_rss_bytes", "bytes"),
               ("p95_rss_bytes", "bytes"), ("cpu_mean_percent", "percent"),
               ("cpu_max_percent", "percent"), ("tree_peak_pss_bytes", "bytes"),
               ("tree_mean_pss_bytes", "bytes"), ("tree_cpu_mean_percent", "percent"),
               ("tree_cpu_max_percent", "percent"), ("peak_pss_bytes", "bytes"),
               ("mean_pss_bytes", "bytes"), ("peak_uss_bytes", "bytes")]


def sut_metrics(sampler, windows, max_seconds, progress):
    """Per phase, the SUT's figures over the phase's window (each window's
    summary kept in it as "summary", for the end table); returns the metrics
    and the whole run's summary."""
    out = []
    for w in windows:
        s = sampler.summary(w["start_s"], w["end_s"])
        if s["samples"] == 0:
            progress.say(f"phase {w['name']}: too short to hold a sample; no SUT figures")
            continue
        p = f"{w['name']}.sut"
        for key, unit in _PHASE_KEYS:
            # None: too few samples in the window for a rate (CPU needs two).
            if s.get(key) is not None and (not key.startswith("tree_") or s["tree_samples"]):
                out.append(runfile.metric(f"{p}.{key}", unit, "lower", [s[key]]))
        w["summary"] = s
    whole = sampler.summary()
    if whole["truncated"] or whole.get("tree_truncated"):
        raise RunError(f"the sampler's storage filled before the run ended (sized for "
                       f"{max_seconds:.0f} s): the scenario ran far longer than its "
                       "phases' seconds")
    out.append(runfile.metric("run.sut.hwm_bytes", "bytes", "lower", [whole["hwm_bytes"]]))
    return out, whole
