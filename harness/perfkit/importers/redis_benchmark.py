"""redis-benchmark --csv output."""
import csv
import io

from ..runfile import metric
from ._common import _clean

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
