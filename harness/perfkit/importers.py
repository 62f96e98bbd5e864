"""Other tools' results read straight into perfkit.run/1 metrics: Google
Benchmark JSON (every repetition), hyperfine JSON, loadgen's summary and
redis-benchmark's CSV."""
import csv
import io
import json
import re
from pathlib import Path

from .runfile import metric

_TIME_UNITS = {"ns", "us", "ms", "s"}


def _load(doc_or_path):
    if isinstance(doc_or_path, (str, Path)):
        return json.loads(Path(doc_or_path).read_text())
    return doc_or_path


def _clean(name):
    return re.sub(r"[^A-Za-z0-9_.:/+-]", "_", name)


def from_google_benchmark(doc_or_path, prefix, counters=None):
    """One metric per benchmark (its real time, in the benchmark's own unit, one
    sample per repetition; aggregates are skipped: the comparator computes its
    own), plus the user counters named in `counters`:
    {counter: (unit, better, portable)}."""
    doc = _load(doc_or_path)
    times, extra = {}, {}
    for b in doc["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = _clean(f"{prefix}.{b['run_name'] if 'run_name' in b else b['name']}")
        unit = b["time_unit"]
        if unit not in _TIME_UNITS:
            raise ValueError(f"{name}: unknown time unit {unit!r}")
        times.setdefault((name, unit), []).append(b["real_time"])
        for key, (cunit, better, portable) in (counters or {}).items():
            if key in b:
                extra.setdefault((f"{name}.{key}", cunit, better, portable), []).append(b[key])
    out = [metric(n, u, "lower", s) for (n, u), s in times.items()]
    out += [metric(n, u, better, s, portable=p) for (n, u, better, p), s in extra.items()]
    return out


def from_hyperfine(doc_or_path, prefix="hyperfine"):
    """One metric per command, in seconds, every run as a sample."""
    doc = _load(doc_or_path)
    # Each of hyperfine's runs is a process of its own: a process run apiece.
    return [metric(_clean(f"{prefix}.{r['command']}"), "s", "lower", r["times"],
                   runs=[1] * len(r["times"])) for r in doc["results"]]


# loadgen summary field -> (unit, better)
_LOADGEN_FIELDS = {
    "spawn_seconds": ("s", "lower"),
    "rate_per_s": ("1/s", "higher"),
    "teardown_seconds": ("s", "lower"),
    "peak_rss_bytes": ("bytes", "lower"),
    "churn_per_s": ("1/s", "higher"),
}


def from_loadgen(summaries, prefix="loadgen"):
    """loadgen --json summaries of the same configuration (one per repetition)
    -> one metric per field, named prefix.profile.kind.spawner.field."""
    summaries = [_load(s) for s in summaries]
    if not summaries:
        return []
    first = summaries[0]
    config = f"{first['profile']}.{first['kind']}.{first['spawner']}"
    if any(f"{s['profile']}.{s['kind']}.{s['spawner']}" != config for s in summaries):
        raise ValueError("loadgen summaries of different configurations")
    runs = [1] * len(summaries)  # each summary is a loadgen process of its own
    out = [metric(f"{prefix}.{config}.{field}", unit, better, [s[field] for s in summaries],
                  runs=runs)
           for field, (unit, better) in _LOADGEN_FIELDS.items()
           if field != "churn_per_s" or first["profile"] == "churn"]  # elsewhere it means nothing
    out.append(metric(f"{prefix}.{config}.spawn_latency_p99", "us", "lower",
                      [s["spawn_latency_us"]["p99"] for s in summaries], runs=runs))
    # What loadgen delivered against its schedule: how late its starts and
    # stops were, and the starts it shed because it could not keep up.
    for which in ("start", "stop"):
        for stat in ("p99", "max"):
            out.append(metric(f"{prefix}.{config}.{which}_lag_{stat}", "ms", "lower",
                              [s[f"{which}_lag_ms"][stat] for s in summaries], runs=runs))
    out.append(metric(f"{prefix}.{config}.shed", "count", "lower",
                      [s["shed"] for s in summaries], runs=runs))
    return out


# redis-benchmark --csv column -> (metric suffix, unit, better)
_REDIS_FIELDS = {"rps": ("rps", "1/s", "higher"), "p50_latency_ms": ("p50_latency", "ms", "lower"),
                 "p99_latency_ms": ("p99_latency", "ms", "lower")}


def from_redis_benchmark(csv_texts, prefix="redis-benchmark"):
    """redis-benchmark --csv outputs (one per repetition) -> per test its
    requests/s and p50/p99 latency, one sample per repetition."""
    samples = {}
    for text in csv_texts:
        # Only the CSV: its lines start with a quote; a warning on stderr does not.
        text = "\n".join(line for line in text.splitlines() if line.startswith('"'))
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or "rps" not in rows[0]:
            raise ValueError("redis-benchmark: no CSV in its output (is --csv given?)")
        for row in rows:
            for column, (suffix, unit, better) in _REDIS_FIELDS.items():
                key = (_clean(f"{prefix}.{row['test']}.{suffix}"), unit, better)
                samples.setdefault(key, []).append(float(row[column]))
    # Each repetition is a redis-benchmark process of its own.
    return [metric(name, unit, better, s, runs=[1] * len(s))
            for (name, unit, better), s in samples.items()]
