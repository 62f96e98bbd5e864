"""The one result format, perfkit.run/1 (docs/DESIGN.md): a run's machine,
revision and every metric with every repetition. Writer, reader, and the JSON
Schema check (schema/run-1.schema.json) that both apply."""
import datetime
import json
import os
import subprocess
from pathlib import Path

import jsonschema

from .machine import machine

SCHEMA = "perfkit.run/1"
_SCHEMA_PATH = Path(__file__).with_name("schema") / "run-1.schema.json"
_validator = None


def _schema_validator():
    global _validator
    if _validator is None:
        schema = json.loads(_SCHEMA_PATH.read_text())
        _validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return _validator


class RunFormatError(ValueError):
    """A document that is not a valid perfkit.run/1."""


def _first_error(validator, doc, prefix=""):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join([prefix] * bool(prefix) + [str(p) for p in errors[0].absolute_path])
        raise RunFormatError(f"not a {SCHEMA} document at {where or '(top)'}: {errors[0].message}"
                             + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))


def validate(run):
    _first_error(_schema_validator(), run)
    # jsonschema checks "date-time" only with rfc3339-validator, which Debian
    # does not ship with it; the standard library's parser does the same job.
    try:
        datetime.datetime.fromisoformat(run["started"])
    except ValueError:
        raise RunFormatError(f"not a {SCHEMA} document at started: "
                             f"{run['started']!r} is not an ISO-8601 time") from None
    _metrics_agree(run["metrics"])


def validate_metrics(metrics):
    """A list of metrics alone, as a run's `metrics` must be (another tool's
    metrics JSON): the schema's own definition, so the two never drift."""
    schema = _schema_validator().schema
    sub = jsonschema.Draft202012Validator({**schema["properties"]["metrics"],
                                           "$schema": schema["$schema"]})
    _first_error(sub, metrics, prefix="metrics")
    _metrics_agree(metrics)


def _metrics_agree(metrics):
    """What the schema cannot say: runs that sum to the samples, names once."""
    for m in metrics:
        if "runs" in m and sum(m["runs"]) != len(m["samples"]):
            raise RunFormatError(f"not a {SCHEMA} document at metrics/{m['name']}: runs "
                                 f"sum to {sum(m['runs'])}, samples are {len(m['samples'])}")
    names = [m["name"] for m in metrics]
    if len(names) != len(set(names)):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise RunFormatError(f"metric names repeat: {', '.join(dup)}")


def _revision(repo):
    """$PERFKIT_REVISION when set (ci/validate.sh pins the revision it built,
    so that a commit made while it measures does not rename its figures),
    else the repository's HEAD."""
    if pinned := os.environ.get("PERFKIT_REVISION"):
        return pinned
    try:
        return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def new_run(build_dir="build", repo=".", scenario=None, revision=None, started=None):
    """started: when the run began (ISO-8601, UTC); now when not given."""
    run = {
        "schema": SCHEMA,
        "machine": machine(build_dir),
        "revision": revision or _revision(repo),
        "started": started or now_iso(),
        "metrics": [],
    }
    if scenario:
        run["scenario"] = scenario
    return run


def metric(name, unit, better, samples, target=None, portable=False, threshold=None, runs=None):
    """runs: how many samples each process run gave ([1, 1, 1] when every
    sample is a process of its own); None when one process gave them all."""
    m = {"name": name, "unit": unit, "better": better,
         "samples": [float(x) for x in samples], "portable": bool(portable)}
    if runs is not None:
        m["runs"] = [int(n) for n in runs]
    if target is not None:
        m["target"] = float(target)
    if threshold is not None:
        m["threshold"] = float(threshold)
    return m


def groups(m):
    """A metric's samples split by the process run that gave them."""
    counts = m.get("runs") or [len(m["samples"])]
    out, i = [], 0
    for n in counts:
        out.append(m["samples"][i:i + n])
        i += n
    return out


def add_metrics(run, metrics):
    run["metrics"].extend(metrics)
    return run


def write_run(run, path):
    """Validates, then writes atomically: a reader never sees half a file."""
    validate(run)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(run, indent=1) + "\n")
    os.replace(tmp, path)


def read_run(path):
    try:
        run = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise RunFormatError(f"{path}: not JSON: {e}") from e
    validate(run)
    return run
