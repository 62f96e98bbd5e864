#!/usr/bin/env python3
"""Times other tools over the processes present now, on request, so that the
collector benchmark can compare them with ours over the very same processes.

Reads one command per line on stdin and answers one line "<ns> <count>":
  psutil   one warm psutil.process_iter(pid, name, memory_info, cpu_times)
  ps       one run of `ps -e -o pid,ppid,rss,comm`
  quit     exit
Started by collector_bench; run by hand it is a small REPL.
"""
import subprocess
import sys
import time

try:
    import psutil
except ImportError:
    sys.stderr.write("tools_probe: psutil is missing: apt-get install python3-psutil "
                     "(and run this with /usr/bin/python3)\n")
    sys.exit(3)

ATTRS = ["pid", "name", "memory_info", "cpu_times"]


def time_psutil():
    start = time.perf_counter_ns()
    count = sum(1 for _ in psutil.process_iter(ATTRS))
    return time.perf_counter_ns() - start, count


def time_ps():
    start = time.perf_counter_ns()
    out = subprocess.run(["ps", "-e", "-o", "pid,ppid,rss,comm"], stdout=subprocess.PIPE,
                         check=True).stdout
    return time.perf_counter_ns() - start, out.count(b"\n") - 1  # less the header


def main():
    commands = {"psutil": time_psutil, "ps": time_ps}
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd not in commands:
            print(f"error unknown command {cmd!r}", flush=True)
            continue
        ns, count = commands[cmd]()
        print(f"{ns} {count}", flush=True)


if __name__ == "__main__":
    main()
