"""The default history store: one SQLite file (Python's own sqlite3), a row per
run and a row per metric of a run, samples as JSON beside their median."""
import fnmatch
import json
import sqlite3
from pathlib import Path

from .store import Store, StoreError, StoredMetric, StoredRun, instant, stored_run

# user_version of a file this module made: another SQLite file is refused.
_VERSION = 1
_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    revision TEXT NOT NULL,
    started TEXT NOT NULL,
    started_at REAL NOT NULL,       -- started as seconds since the epoch, to order by
    UNIQUE (fingerprint, revision, started)
);
CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    better TEXT NOT NULL,
    samples TEXT NOT NULL,          -- a JSON array
    runs TEXT,                      -- a JSON array, or NULL
    median REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
CREATE INDEX runs_order ON runs (fingerprint, started_at, id);
"""


class SqliteStore(Store):
    def __init__(self, path, create=False):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(f"{self.path}: no such history")
        try:
            if create:  # as the JSON-lines store makes its directory
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # Read-only when only reading, so that a look never makes a file.
            uri = self.path.resolve().as_uri() + ("?mode=rwc" if create else "?mode=ro")
            self._db = sqlite3.connect(uri, uri=True)
            self._db.create_function("glob_match", 2, fnmatch.fnmatchcase, deterministic=True)
            self._prepare(create)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"{self.path}: not a readable history: {e}") from None

    def _prepare(self, create):
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version == _VERSION:
            return
        if version == 0 and tables == 0 and create:
            with self._db:
                self._db.executescript(_SCHEMA + f"PRAGMA user_version = {_VERSION};")
            return
        raise StoreError(f"{self.path}: not a perfkit history (SQLite user_version {version}, "
                         f"this perfkit writes {_VERSION})")

    def append(self, run):
        r = stored_run(run)
        try:
            with self._db:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO runs (fingerprint, revision, started, started_at) "
                    "VALUES (?, ?, ?, ?)", (*r.key, instant(r.started)))
                if cur.rowcount == 0:
                    return False
                self._db.executemany(
                    "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(cur.lastrowid, m.name, m.unit, m.better, json.dumps(m.samples),
                      None if m.runs is None else json.dumps(m.runs), m.median)
                     for m in r.metrics])
            return True
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot append: {e}") from None

    def runs(self, fingerprint=None, metric="*"):
        try:
            rows = self._db.execute(
                "SELECT r.id, r.fingerprint, r.revision, r.started, m.name, m.unit, m.better, "
                "m.samples, m.median, m.runs FROM runs r JOIN metrics m ON m.run_id = r.id "
                "WHERE (?1 IS NULL OR r.fingerprint = ?1) AND glob_match(m.name, ?2) "
                "ORDER BY r.started_at, r.id, m.rowid", (fingerprint, metric)).fetchall()
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot read: {e}") from None
        out, last = [], None
        for rid, fp, rev, started, name, unit, better, samples, median, runs in rows:
            if rid != last:
                out.append((fp, rev, started, []))
                last = rid
            out[-1][3].append(StoredMetric(name, unit, better, tuple(json.loads(samples)), median,
                                           None if runs is None else tuple(json.loads(runs))))
        return [StoredRun(fp, rev, started, tuple(ms)) for fp, rev, started, ms in out]

    def fingerprints(self):
        try:
            return [fp for (fp,) in self._db.execute(
                "SELECT DISTINCT fingerprint FROM runs ORDER BY fingerprint")]
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot read: {e}") from None

    def close(self):
        self._db.close()
