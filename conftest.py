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
    """spawn(argv, **popen_kwargs) -> Popen; every child is killed and reaped at teardown."""
    children = []

    def _spawn(argv, **kwargs):
        p = subprocess.Popen(argv, **kwargs)
        children.append(p)
        return p

    yield _spawn
    for p in children:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
