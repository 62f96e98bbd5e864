"""Fixtures of the daemon's tests: a `procmond run` in a temporary directory,
always stopped and reaped, also when a test fails."""
import pytest

from procmond_daemon import Daemon


@pytest.fixture
def procmond(bin_dir, tmp_path):
    """procmond(*args, start=True) -> Daemon; each is killed at teardown if still running."""
    daemons = []

    def _start(*args, start=True, root=None, env=None):
        d = Daemon(bin_dir, root or tmp_path / f"d{len(daemons)}", *args, env=env)
        (d.root).mkdir(parents=True, exist_ok=True)
        daemons.append(d)
        return d.start() if start else d

    yield _start
    for d in daemons:
        if d.proc is not None:
            d.kill()
