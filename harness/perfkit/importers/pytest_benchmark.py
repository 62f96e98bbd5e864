"""pytest-benchmark JSON (--benchmark-json, or a file --benchmark-save wrote)."""
from ..runfile import metric
from ._common import _clean, _load


def from_pytest_benchmark(doc_or_path, prefix="pytest-benchmark", notes=None):
    """One metric per benchmark, in seconds per call: every round a sample
    (stats.data, kept by --benchmark-json and by --benchmark-save-data), all
    of one process run. A file with only the aggregates (--benchmark-save
    without --benchmark-save-data) gives its median as the one sample, and
    says so in `notes` (a list, when given)."""
    doc = _load(doc_or_path)
    out = []
    for b in doc["benchmarks"]:
        stats = b["stats"]
        name = _clean(f"{prefix}.{b.get('fullname') or b['name']}")
        samples = stats.get("data")
        if not samples:
            samples = [stats["median"]]
            if notes is not None:
                notes.append(f"{name}: only aggregates (no stats.data; save with "
                             "--benchmark-save-data): its median is the one sample")
        out.append(metric(name, "s", "lower", samples))
    return out
