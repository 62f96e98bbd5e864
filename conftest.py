"""Shared pytest fixtures: where the build put the binaries, and children that
are always killed, also when a test fails."""
import os
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def bin_dir():
    path = Path(os.environ.get("PROCMOND_BUILD_DIR", REPO / "build")) / "bin"
    if not (path / "procmond").exists():
        pytest.fail(f"{path}/procmond is missing: build first (ci/test.sh builds into build/)")
    return path


@pytest.fixture
def spawn():
    """spawn(argv, **popen_kwargs) -> Popen; every child is killed and reaped at
    teardown, and with start_new_session=True its whole session too (a tree)."""
    children = []

    def _spawn(argv, **kwargs):
        p = subprocess.Popen(argv, **kwargs)
        children.append((p, kwargs.get("start_new_session", False)))
        return p

    yield _spawn
    for p, own_session in children:
        if own_session:  # its group: the child and every descendant that stayed in it
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        elif p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
