"""The machine a run was measured on, and its fingerprint: two runs on the same
machine (and the same build of the same compiler) get the same one, so that
absolute times are compared only between runs that share it."""
import hashlib
import os
import platform
import re
from pathlib import Path

import psutil


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes():
    return psutil.virtual_memory().total


def _governor():
    try:
        return Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text().strip()
    except OSError:
        return None  # no cpufreq (a VM, often): nothing to read


def build_info(build_dir):
    """(compiler, build type) from a CMake build directory's cache."""
    compiler, build = "unknown", "unknown"
    try:
        cache = Path(build_dir, "CMakeCache.txt").read_text()
    except OSError:
        return compiler, build
    if m := re.search(r"^CMAKE_CXX_COMPILER:\w+=(.+)$", cache, re.M):
        compiler = Path(m.group(1)).name
    # CMake's own probe names the compiler ("GNU 12.2.0"), where the cache has /usr/bin/c++.
    for probe in sorted(Path(build_dir, "CMakeFiles").glob("*/CMakeCXXCompiler.cmake")):
        text = probe.read_text()
        cid = re.search(r'set\(CMAKE_CXX_COMPILER_ID "([^"]+)"\)', text)
        ver = re.search(r'set\(CMAKE_CXX_COMPILER_VERSION "([^"]+)"\)', text)
        if cid and ver:
            compiler = f"{cid.group(1)} {ver.group(1)}"
            break
    if m := re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache, re.M):
        build = m.group(1) or "unknown"
    return compiler, build


def machine(build_dir="build"):
    compiler, build = build_info(build_dir)
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 1,
        "memory_bytes": _memory_bytes(),
        "kernel": platform.release(),
        "compiler": compiler,
        "build": build,
        "governor": _governor(),
    }
    # Memory in whole GiB: MemTotal moves by a few kB between kernels' reservations.
    stable = [info["cpu"], info["cores"], round(info["memory_bytes"] / 2**30), info["kernel"],
              info["compiler"], info["build"]]
    info["fingerprint"] = hashlib.sha256(repr(stable).encode()).hexdigest()[:16]
    return info
