"""What callgrind.sh's sampler preset runs under callgrind: perfkit's native
sampler (harness/src/sampler.cpp) on a sleeping child, at its defaults
(100 Hz, the slow reads at 10 Hz), for a few seconds. Only the native module
is imported (not perfkit's Python side: numpy and the rest would cost a
minute of start-up under callgrind for nothing counted).

    sampler_driver.py [--seconds S] [--hz HZ] [--slow-hz HZ]
"""
import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path


def _native():
    """perfkit/_native*.so loaded alone, without perfkit/__init__.py."""
    here = Path(__file__).resolve().parents[2] / "harness" / "perfkit"
    found = sorted(here.glob("_native*.so"))
    if not found:
        sys.exit(f"sampler_driver: no {here}/_native*.so: build first (cmake --build build)")
    spec = importlib.util.spec_from_file_location("perfkit._native", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--hz", type=float, default=100.0)
    p.add_argument("--slow-hz", type=float, default=10.0)
    args = p.parse_args()
    native = _native()
    child = subprocess.Popen(["sleep", "3600"])
    try:
        sampler = native.Sampler(child.pid, args.hz, args.slow_hz, args.seconds + 60)
        sampler.start()
        time.sleep(args.seconds)
        sampler.stop()
        # The sampling thread's own CPU: beside a native run's, callgrind's slowdown.
        print(f"sampler_driver: {args.seconds:g} s at {args.hz:g} Hz, {sampler.missed} "
              f"deadlines missed, sampling thread CPU {1e3 * sampler.self_cpu_s:.1f} ms")
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    main()
