"""Fixtures of the profiling wrappers' tests: the wrappers' directory, and
small C programs with known answers (a hot function, a leak of N bytes, a
peak of M bytes), compiled for the test into its temporary directory."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROFILING = Path(__file__).resolve().parents[1]
PROGRAMS = Path(__file__).resolve().parent / "programs"


@pytest.fixture(scope="session")
def profiling_dir():
    return PROFILING


@pytest.fixture(scope="session")
def compile_c(tmp_path_factory):
    """compile_c("hot_function.c") -> the path of the program built from
    programs/NAME with symbols and frame pointers (so every profiler can walk
    its stacks), once per session."""
    out = tmp_path_factory.mktemp("programs")
    built = {}
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        pytest.fail(f"{cc} is not installed (build-essential; ci/install-deps.sh installs it)")

    def _compile(name, *flags):
        key = (name, flags)
        if key not in built:
            exe = out / (Path(name).stem + "".join(f.strip("-=") for f in flags))
            subprocess.run([cc, "-g", "-O1", "-fno-omit-frame-pointer", "-fno-inline",
                            *flags, "-o", str(exe), str(PROGRAMS / name)], check=True)
            built[key] = exe
        return built[key]

    return _compile
