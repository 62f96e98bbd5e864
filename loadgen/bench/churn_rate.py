#!/usr/bin/env python3
"""The highest churn rate this machine sustains: the most starts per second
loadgen makes on schedule, its p99 start lag under a bar (10 ms), nothing shed
and nothing failed.

starts+exits per second are what the schedule asks, met by construction; what
loadgen delivered is how late each start was (coordinated omission: a late
start is still made, only later, and hides in a rate). So each trial runs a
churn at an asked rate and is judged on its lag; the rate doubles until a
trial misses, then the gap is halved until it is within --precision.

A shared machine stalls now and then, and one stall longer than 1 % of a
trial misses the bar whatever the rate: each rate is tried up to --tries
times (3) and passes on a majority.

    churn_rate.py --bin-dir build/bin [--spawner auto] [--count 1000]
                  [--seconds 5] [--tries 3] [--max-lag-ms 10] [--precision 0.1]
                  [--out FILE]
"""
import json
import sys
import tempfile

from loadgen_bench import arg_parser, parse_args, run_loadgen


def churn_args(rate, count, seconds):
    """loadgen arguments asking `rate` starts/s of `count` slots: a mean life
    of count / rate, lives uniform in [0.5, 1.5] of it, and the slots filled
    at `rate` too (--rate), not all at once: a fill of `count` at t = 0 is a
    burst whose lag is the time to spawn them all, not the churn's."""
    life = count / rate
    return ["--profile", "churn", "--count", count, "--rate", f"{rate:.3f}",
            "--duration", f"{seconds}s",
            "--churn-life-min", f"{life * 0.5 * 1000:.3f}ms",
            "--churn-life-max", f"{life * 1.5 * 1000:.3f}ms"]


def sustained(summary, max_lag_ms):
    """A trial kept its schedule: p99 start lag under the bar, nothing shed or failed."""
    return (summary["start_lag_ms"]["p99"] < max_lag_ms and summary["shed"] == 0
            and summary["failed"]["count"] == 0)


def majority(trial, tries):
    """A trial function passing when most of up to `tries` runs pass (it stops
    once the majority is decided)."""
    def judged(rate):
        passed = failed = 0
        while max(passed, failed) <= tries // 2:
            if trial(rate):
                passed += 1
            else:
                failed += 1
        return passed > failed
    return judged


def search(trial, start_rate, precision, max_rate=1e6):
    """Highest rate r for which trial(r) is True, doubling from start_rate then
    bisecting until (hi - lo) / lo < precision. Returns (rate or 0, trials)."""
    tried = []

    def ok(rate):
        result = trial(rate)
        tried.append((rate, result))
        return result

    lo, hi = 0.0, start_rate
    while hi <= max_rate and ok(hi):
        lo, hi = hi, hi * 2
    if lo == 0:  # even the first rate missed: halve down
        while hi > 1 and not ok(hi / 2):
            hi /= 2
        lo = hi / 2 if hi > 1 else 0
    while lo > 0 and (hi - lo) / lo >= precision:
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo, tried


def run_trial(bin_dir, spawner, rate, count, seconds, tmp):
    # 3: starts shed, a miss like any other.
    return run_loadgen(bin_dir, ["--spawner", spawner, *churn_args(rate, count, seconds)], tmp,
                       statuses=(0, 3))


def main():
    ap = arg_parser(__doc__)
    ap.add_argument("--spawner", default="auto", help="auto (clone for sleep), zygote, spawn")
    ap.add_argument("--count", type=int, default=1000, help="churn slots (live children)")
    ap.add_argument("--seconds", type=float, default=5, help="each trial's duration")
    ap.add_argument("--tries", type=int, default=3, help="trials per rate, passing on a majority")
    ap.add_argument("--max-lag-ms", type=float, default=10, help="the p99 start lag bar")
    ap.add_argument("--start-rate", type=float, default=1000, help="first rate tried, starts/s")
    ap.add_argument("--precision", type=float, default=0.1, help="relative width of the answer")
    ap.add_argument("--out", help="write every trial's summary here as JSON")
    a = parse_args(ap)

    summaries = []
    with tempfile.TemporaryDirectory(prefix="loadgen-churn-rate-") as tmp:
        def trial(rate):
            s = run_trial(a.bin_dir, a.spawner, rate, a.count, a.seconds, tmp)
            summaries.append(s)
            lag = s["start_lag_ms"]
            verdict = "ok  " if sustained(s, a.max_lag_ms) else "MISS"
            print(f"  {verdict} asked {s['asked_per_s']:8.0f}/s  start lag p50 {lag['p50']:7.2f}"
                  f" p99 {lag['p99']:7.2f} max {lag['max']:8.2f} ms  shed {s['shed']:>7}"
                  f"  failed {s['failed']['count']}", flush=True)
            return sustained(s, a.max_lag_ms)

        best, tried = search(majority(trial, a.tries), a.start_rate, a.precision)
    print(f"highest churn sustained via {summaries[0]['spawner'] if summaries else a.spawner}: "
          f"{best:.0f} starts/s ({a.count} live, {a.seconds:g} s trials, a majority of "
          f"{a.tries}) with p99 start lag "
          f"< {a.max_lag_ms:g} ms, nothing shed")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"best_per_s": best, "trials": summaries}, f, indent=1)
    return 0 if best > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
