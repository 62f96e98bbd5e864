"""What every importer shares: a JSON document or its file, metric names made
safe for perfkit.run/1."""
import json
import re
from pathlib import Path

_TIME_UNITS = {"ns", "us", "ms", "s"}


def _load(doc_or_path):
    if isinstance(doc_or_path, (str, Path)):
        return json.loads(Path(doc_or_path).read_text())
    return doc_or_path


def _clean(name):
    return re.sub(r"[^A-Za-z0-9_.:/+-]", "_", name)
