"""Any tool's figures without an importer of its own: text lines
`name value unit [lower|higher]`, or a metrics JSON {"metrics": [...]} of
perfkit.run/1 metric objects."""
import json
import math
import re

from .. import runfile
from ..runfile import metric

UNITS = ("ms", "s", "us", "ns", "bytes", "percent", "1/s", "ratio", "count")
_NAME = re.compile(r"^[A-Za-z0-9_.:/+-]+$")


def _prefixed(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def from_lines(text, prefix=None):
    """One sample per line; a name given again adds a sample. Blank lines and
    `#` comments are skipped. Without lower|higher, 1/s is better higher and
    every other unit lower. A line that does not parse raises ValueError
    naming its line number."""
    by_name = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"line {number}"
        if len(words) not in (3, 4):
            raise ValueError(f"{where}: expected `name value unit [lower|higher]`, "
                             f"got {line.strip()!r}")
        name, value, unit = words[:3]
        better = words[3] if len(words) == 4 else ("higher" if unit == "1/s" else "lower")
        try:
            value = float(value)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"{where}: {words[1]!r} is not a number")
        if not _NAME.match(name):
            raise ValueError(f"{where}: {name!r}: a name is letters, digits and _ . : / + -")
        if unit not in UNITS:
            raise ValueError(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
        if better not in ("lower", "higher"):
            raise ValueError(f"{where}: {better!r}: say lower or higher")
        have = by_name.setdefault(name, (unit, better, []))
        if have[:2] != (unit, better):
            raise ValueError(f"{where}: {name} was {have[0]}, {have[1]} is better; "
                             f"now {unit}, {better}")
        have[2].append(value)
    if not by_name:
        raise ValueError("no metrics: every line is blank or a comment")
    return [metric(_prefixed(prefix, name), unit, better, samples)
            for name, (unit, better, samples) in by_name.items()]


def from_metrics_json(doc, prefix=None):
    """{"metrics": [...]}: each checked against perfkit.run/1's metric
    definition (RunFormatError, a ValueError, says where and why); `portable`
    may be left out (false)."""
    if isinstance(doc, str):
        doc = json.loads(doc)
    if not isinstance(doc, dict) or set(doc) != {"metrics"}:
        raise ValueError('expected {"metrics": [...]} and nothing else')
    metrics = doc["metrics"]
    if isinstance(metrics, list):
        metrics = [{"portable": False, **m} if isinstance(m, dict) else m for m in metrics]
    runfile.validate_metrics(metrics)
    if not metrics:
        raise ValueError("no metrics: the list is empty")
    return [{**m, "name": _prefixed(prefix, m["name"])} for m in metrics]
