"""loadgen's --json summaries."""
from ..runfile import metric
from ._common import _load

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
