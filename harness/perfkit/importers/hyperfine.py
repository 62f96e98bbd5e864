"""hyperfine JSON (--export-json)."""
from ..runfile import metric
from ._common import _clean, _load


def from_hyperfine(doc_or_path, prefix="hyperfine"):
    """One metric per command, in seconds, every run as a sample."""
    doc = _load(doc_or_path)
    # Each of hyperfine's runs is a process of its own: a process run apiece.
    return [metric(_clean(f"{prefix}.{r['command']}"), "s", "lower", r["times"],
                   runs=[1] * len(r["times"])) for r in doc["results"]]
