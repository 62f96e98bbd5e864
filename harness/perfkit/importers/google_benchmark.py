"""Google Benchmark JSON (--benchmark_out_format=json)."""
from ..runfile import metric
from ._common import _TIME_UNITS, _clean, _load


def from_google_benchmark(doc_or_path, prefix, counters=None, clock="real"):
    """One metric per benchmark (its real time, in the benchmark's own unit, one
    sample per repetition; aggregates are skipped: the comparator computes its
    own), plus the user counters named in `counters`:
    {counter: (unit, better, portable)}. clock="cpu" takes the CPU time
    instead: on a shared machine, neighbours lengthen a CPU-bound benchmark's
    wall time but not its CPU time."""
    if clock not in ("real", "cpu"):
        raise ValueError(f"clock {clock!r} is neither real nor cpu")
    doc = _load(doc_or_path)
    times, extra = {}, {}
    for b in doc["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = _clean(f"{prefix}.{b['run_name'] if 'run_name' in b else b['name']}")
        unit = b["time_unit"]
        if unit not in _TIME_UNITS:
            raise ValueError(f"{name}: unknown time unit {unit!r}")
        times.setdefault((name, unit), []).append(b[f"{clock}_time"])
        for key, (cunit, better, portable) in (counters or {}).items():
            if key in b:
                extra.setdefault((f"{name}.{key}", cunit, better, portable), []).append(b[key])
    out = [metric(n, u, "lower", s) for (n, u), s in times.items()]
    out += [metric(n, u, better, s, portable=p) for (n, u, better, p), s in extra.items()]
    return out
