"""The perf suite: perfkit's pytest plugin (the `perf` marker, PERFKIT_SKIP_PERF,
the `sampled_sut` and `perf_judge` fixtures) and the suite's own checks."""
import os
import shutil

import pytest

# The plugin's hooks and fixtures, imported: pytest takes `pytest_plugins` only
# from the top-level conftest, and this suite is one directory among others.
from perfkit.pytest_plugin import (perf_judge, pytest_collection_modifyitems,  # noqa: F401
                                   pytest_configure, sampled_sut)


@pytest.fixture(autouse=True)
def fit_to_measure(request):
    """A machine too small to measure on says so instead of failing."""
    if request.node.get_closest_marker("perf") and (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: the measured program and its load would share it")


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        pytest.skip("redis-server and redis-benchmark are not installed (apt-get install "
                    "redis-server redis-tools; ci/install-deps.sh does)")
