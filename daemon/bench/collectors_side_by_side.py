#!/usr/bin/env python3
"""procmond run's steady CPU and RSS with each collector, side by side: one
loadgen holds COUNT sleeping processes, one daemon per collector (bpf, proc)
reads them at the same interval, and each daemon's CPU is taken from its own
/proc/PID/stat over the same windows, after the first cycles (whose first
sight of every process, cmdline, status and exe, is not steady work).

    collectors_side_by_side.py [--bin-dir build/bin] [--count 10000] [--windows 4] [--window 20]

Needs root for the bpf daemon (else it says so and measures proc alone).
Prints one line per window; every child is stopped on the way out."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", default="build/bin")
    ap.add_argument("--count", type=int, default=10000, help="sleeping processes (loadgen)")
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--window", type=float, default=20.0, help="seconds per window")
    ap.add_argument("--settle", type=float, default=10.0,
                    help="seconds after the daemons start before the first window")
    a = ap.parse_args(argv[1:])
    collectors = ["bpf", "proc"] if os.geteuid() == 0 else ["proc"]
    if len(collectors) == 1:
        print("collectors_side_by_side: not root, so proc alone", file=sys.stderr)
    tmp = tempfile.mkdtemp(prefix="procmond-side-")
    seconds = a.settle + a.windows * a.window + 30
    load = subprocess.Popen([f"{a.bin_dir}/loadgen", "run", "--count", str(a.count), "--profile",
                             "steady", "--duration", f"{seconds:.0f}s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    daemons = {}
    try:
        time.sleep(min(8.0, 1.0 + a.count / 2000))  # loadgen's children up
        for c in collectors:
            daemons[c] = subprocess.Popen(
                [f"{a.bin_dir}/procmond", "run", "--socket", f"{tmp}/{c}.sock", "--data-dir",
                 f"{tmp}/{c}", "--interval", "1s", "--collector", c],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(a.settle)
        for w in range(a.windows):
            before = {c: cpu_s(p.pid) for c, p in daemons.items()}
            t0 = time.monotonic()
            time.sleep(a.window)
            dt = time.monotonic() - t0
            print(f"window {w + 1}: " + ", ".join(
                f"{c} {100 * (cpu_s(p.pid) - before[c]) / dt:.2f} % of a core, "
                f"RSS {rss_mb(p.pid):.1f} MB" for c, p in daemons.items()), flush=True)
    finally:
        for p in daemons.values():
            p.send_signal(signal.SIGTERM)
        for p in daemons.values():
            p.wait(timeout=30)
        os.killpg(load.pid, signal.SIGTERM)  # loadgen's own group: it tears its children down
        load.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
