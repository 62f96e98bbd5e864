"""The plain-text history store: a directory with one <fingerprint>.jsonl file
per machine, one run a line, only ever appended to (diffable, mergeable, easy
to keep in a repository or an artifact)."""
import fcntl
import json
import os
from pathlib import Path

from .store import Store, StoreError, StoredRun, instant, stored_run


class JsonlStore(Store):
    def __init__(self, path, create=False):
        self.path = Path(path)
        if create:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"{self.path}: cannot make the history directory: "
                                 f"{e.strerror}") from None
        elif not self.path.is_dir():
            raise StoreError(f"{self.path}: no such history")

    def _file(self, fingerprint):
        return self.path / f"{fingerprint}.jsonl"

    def _read(self, file):
        try:
            lines = file.read_text().splitlines()
        except OSError as e:
            raise StoreError(f"{file}: cannot read: {e.strerror}") from None
        runs = []
        for n, line in enumerate(lines, 1):
            try:
                runs.append(StoredRun.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as e:
                raise StoreError(f"{file}:{n}: not a stored run: {e}") from None
        return runs

    def append(self, run):
        r = stored_run(run)
        file = self._file(r.fingerprint)
        line = (json.dumps(r.to_json(), separators=(",", ":")) + "\n").encode()
        try:
            fd = os.open(file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise StoreError(f"{file}: cannot append: {e.strerror}") from None
        try:
            # Locked from the check to the write: two appends of one run at
            # once still leave one line.
            fcntl.flock(fd, fcntl.LOCK_EX)
            if any(old.key == r.key for old in self._read(file)):
                return False
            os.write(fd, line)  # one write of one line, O_APPEND: never interleaved
            return True
        except OSError as e:
            raise StoreError(f"{file}: cannot append: {e.strerror}") from None
        finally:
            os.close(fd)

    def runs(self, fingerprint=None, metric="*"):
        fps = [fingerprint] if fingerprint is not None else self.fingerprints()
        out = []
        for fp in fps:
            if self._file(fp).exists():
                out.extend(self._read(self._file(fp)))
        # sorted() is stable: runs of one instant stay in the order appended.
        out.sort(key=lambda r: instant(r.started))
        return [r for r in (r.only(metric) for r in out) if r.metrics]

    def fingerprints(self):
        return sorted(f.stem for f in self.path.glob("*.jsonl"))
