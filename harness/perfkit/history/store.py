"""The history of runs behind one small seam: what a store keeps of a run, the
interface every backend implements, and the choice of backend by path.

A backend is a subclass of Store with four methods:

    append(run) -> bool
        Keeps a perfkit.run/1 document (as runfile.read_run returns it) as a
        StoredRun. Idempotent: a run whose (fingerprint, revision, started) is
        already kept changes nothing and returns False; True when it was new.
    runs(fingerprint=None, metric="*") -> list[StoredRun]
        The runs kept, oldest first (by `started` as an instant; runs started
        at the same instant in the order they were appended), of one machine
        fingerprint or of all, each with only its metrics whose name matches
        the shell-style glob `metric` (fnmatch, case-sensitive); runs with no
        such metric are left out.
    fingerprints() -> list[str]
        The machine fingerprints with runs kept, sorted.
    close()
        Releases what the store holds open (also on leaving a `with`).

Each raises StoreError, saying where and why, for a store it cannot read or
write. The backends: SqliteStore (one file, the default) and JsonlStore (a
directory of <fingerprint>.jsonl files). Another (PostgreSQL for a team's
shared CI, say) is one more subclass of Store and one more case in open_store:
tables as SqliteStore's, `ON CONFLICT DO NOTHING` for idempotence.
"""
import abc
import datetime
import fnmatch
import statistics
from dataclasses import dataclass
from pathlib import Path


class StoreError(Exception):
    """A history store that cannot be read or written."""


@dataclass(frozen=True)
class StoredMetric:
    name: str
    unit: str
    better: str                 # "lower" or "higher"
    samples: tuple
    median: float               # of all its samples: the figure a series is made of
    runs: tuple = None          # samples per process run, as in the run file


@dataclass(frozen=True)
class StoredRun:
    fingerprint: str
    revision: str
    started: str                # ISO-8601, as in the run file
    metrics: tuple              # of StoredMetric

    @property
    def key(self):
        """What makes a run the same run: appending it again changes nothing."""
        return self.fingerprint, self.revision, self.started

    def to_json(self):
        return {"fingerprint": self.fingerprint, "revision": self.revision,
                "started": self.started,
                "metrics": [{"name": m.name, "unit": m.unit, "better": m.better,
                             "samples": list(m.samples), "median": m.median,
                             **({"runs": list(m.runs)} if m.runs is not None else {})}
                            for m in self.metrics]}

    @classmethod
    def from_json(cls, d):
        return cls(d["fingerprint"], d["revision"], d["started"],
                   tuple(StoredMetric(m["name"], m["unit"], m["better"], tuple(m["samples"]),
                                      m["median"], tuple(m["runs"]) if "runs" in m else None)
                         for m in d["metrics"]))

    def only(self, metric_glob):
        """This run with only the metrics whose name matches the glob."""
        return StoredRun(self.fingerprint, self.revision, self.started,
                         tuple(m for m in self.metrics
                               if fnmatch.fnmatchcase(m.name, metric_glob)))


def stored_run(run):
    """What a store keeps of a perfkit.run/1 document."""
    return StoredRun(
        run["machine"]["fingerprint"], run["revision"], run["started"],
        tuple(StoredMetric(m["name"], m["unit"], m["better"], tuple(m["samples"]),
                           float(statistics.median(m["samples"])),
                           tuple(m["runs"]) if "runs" in m else None)
              for m in run["metrics"]))


def instant(started):
    """A run's start as seconds since the epoch, for ordering: ISO strings with
    different offsets do not sort as text. One without an offset is UTC."""
    t = datetime.datetime.fromisoformat(started)
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


class Store(abc.ABC):
    """See the module's docstring for what each method promises."""

    @abc.abstractmethod
    def append(self, run): ...

    @abc.abstractmethod
    def runs(self, fingerprint=None, metric="*"): ...

    @abc.abstractmethod
    def fingerprints(self): ...

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def is_directory_store(path):
    """A path ending in / or naming a directory means JSON lines; else SQLite."""
    return str(path).endswith("/") or Path(path).is_dir()


def open_store(path, create=False):
    """The store at path. create=False (for reading) never makes a file."""
    if is_directory_store(path):
        from .jsonl_store import JsonlStore
        return JsonlStore(path, create=create)
    from .sqlite_store import SqliteStore
    return SqliteStore(path, create=create)
