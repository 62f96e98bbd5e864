#!/usr/bin/env python3
"""How often the comparator calls a regression when nothing changed: A/A
comparisons of one build's real benchmarks, against pytest-benchmark's bare
10 % rule on the same runs.

Each benchmark is run as many separate processes (a pool): procfs_parsers_bench
(5 repetitions an invocation), collector_bench --procs=1000 (3 repetitions;
it spawns and reaps its own children) and loadgen run of 1,000 sleeps (one
summary an invocation). The pool is built in rounds, each round one invocation
of every benchmark in a shuffled order, so the machine's drift over the
session falls on every benchmark and on every part of every pool alike. One
invocation of each is timed first (and left out of the pools) to size the
pool to the time budget.

Then, per benchmark, 20 A/A comparisons: each draws 6 distinct invocations
from the pool at random (seeded) and splits them 3 (baseline) against 3
(now). Every metric of every comparison is judged three ways, at a 10 %
threshold:

  ours     perfkit.stats.change (two-level bootstrap: runs, then repetitions,
           expanded percentile interval) and perfkit.verdict.judge;
  bare     pytest-benchmark's --benchmark-compare-fail=mean:10%: one
           invocation against one (the first of each side), a failure when
           the mean of its repetitions is more than 10 % worse;
  pooled   the same bootstrap with every repetition taken for a run of its
           own: what treating repetitions inside one process as independent
           samples amounts to.

Any regression or failure here is a false alarm: both sides are the same
build. The comparisons share runs (6 of a pool of 24 each), so their counts
are not 20 independent trials; the seed and every judgement are kept. False alarms are measured across separate processes of one build,
never across the repetitions inside one. Beside them, each metric's
within-run CV (the median over the pool of each run's CV of its repetitions)
and between-run CV (the CV of the run medians over the pool).

    PYTHONPATH=harness /usr/bin/python3 harness/bench/aa_false_alarms.py \\
        [--bin-dir build/bin] [--pool 24] [--minutes 25] [--comparisons 20] \\
        [--seed 1] [--out aa.json] [--quick]

--pool is the most invocations of each benchmark; fewer are run when the
timed first round says they will not fit in --minutes (never fewer than 6).
--quick: a smoke run (6 a pool, smaller benchmarks), minutes not 25.
--rejudge FILE: no measurement; the samples an earlier --out saved are
judged again (another --seed, --threshold or --comparisons).
The load average and the count of processes on the machine are recorded at
each round's start: another job's thousands of processes change what
collector_bench reads, not only how fast. Build first: cmake --build build. Progress goes to stderr, the table to
stdout, everything (every sample, every judgement) to --out as JSON.
"""
import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from perfkit import stats, verdict
from perfkit.importers import from_google_benchmark, from_loadgen
from perfkit.runfile import groups as metric_groups

THRESHOLD = 0.10
PER_SIDE = 3
COMPARISONS = 20
MIN_POOL = 2 * PER_SIDE
TIMEOUT_S = 600


# ---------------------------------------------------------------- the pure parts

def split(pool_size, comparisons, per_side, seed):
    """`comparisons` pairs (baseline, now) of pool indices: each comparison
    draws 2 * per_side distinct invocations at random and gives the first
    half to the baseline. Seeded: the same arguments give the same pairs."""
    if pool_size < 2 * per_side:
        raise ValueError(f"a pool of {pool_size} cannot give {2 * per_side} distinct runs")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(comparisons):
        pick = [int(i) for i in rng.choice(pool_size, size=2 * per_side, replace=False)]
        out.append((pick[:per_side], pick[per_side:]))
    return out


def worse_by(base, now, better):
    """now / base - 1 turned so that + is worse (as verdict.judge reads it)."""
    change = now / base - 1
    return change if better == "lower" else -change


def bare_rule_fails(base_samples, now_samples, better, threshold=THRESHOLD):
    """pytest-benchmark's mean:10%: the mean of one run against the mean of
    one other, a failure when it is more than `threshold` worse. pytest-benchmark
    computes now / base * 100 - 100 > 10 on times; a higher-is-better metric is
    turned around as verdict.judge turns it."""
    base, now = statistics.fmean(base_samples), statistics.fmean(now_samples)
    if base == 0:
        return now != 0  # pytest-benchmark: a zero baseline is an infinite change
    percent = now / base * 100 - 100  # its PercentageRegressionCheck, to the last rounding
    return (percent if better == "lower" else -percent) > threshold * 100


def pooled(groups):
    """Every repetition a run of its own."""
    return [[x] for g in groups for x in g]


def within_run_cv(groups):
    """The median over the runs of each run's CV (sample standard deviation
    over mean) of its repetitions; None when no run has two."""
    cvs = [statistics.stdev(g) / statistics.fmean(g) for g in groups
           if len(g) >= 2 and statistics.fmean(g) != 0]
    return statistics.median(cvs) if cvs else None


def between_run_cv(groups):
    """The CV of the runs' medians; None with fewer than two runs."""
    medians = [statistics.median(g) for g in groups]
    if len(medians) < 2 or statistics.fmean(medians) == 0:
        return None
    return statistics.stdev(medians) / statistics.fmean(medians)


def judgeable(base_groups, now_groups):
    """As perfkit compare: a change relative to zero (or below) means nothing."""
    return min(min(g) for g in base_groups + now_groups) > 0


def judge_three_ways(name, base_groups, now_groups, better, threshold=THRESHOLD, seed=""):
    """A comparison of one metric, three ways: ours, pooled (both verdicts
    with their changes) and bare (True: pytest-benchmark would fail it)."""
    ours = stats.change(base_groups, now_groups, seed=f"{name}#{seed}")
    flat = stats.change(pooled(base_groups), pooled(now_groups), seed=f"{name}#{seed}")
    return {
        "ours": verdict.judge(ours, better, threshold),
        "ours_change": [ours.change, ours.low, ours.high],
        "pooled": verdict.judge(flat, better, threshold),
        "pooled_change": [flat.change, flat.low, flat.high],
        "bare_fails": bare_rule_fails(base_groups[0], now_groups[0], better, threshold),
        "bare_change": worse_by(statistics.fmean(base_groups[0]),
                                statistics.fmean(now_groups[0]), better),
    }


def tally(judgements):
    """Counts over a metric's (or a benchmark's) judgements."""
    return {
        "judgements": len(judgements),
        "ours_regression": sum(j["ours"] == verdict.REGRESSION for j in judgements),
        "ours_inconclusive": sum(j["ours"] == verdict.INCONCLUSIVE for j in judgements),
        "ours_improvement": sum(j["ours"] == verdict.IMPROVEMENT for j in judgements),
        "bare_fails": sum(j["bare_fails"] for j in judgements),
        "pooled_regression": sum(j["pooled"] == verdict.REGRESSION for j in judgements),
        "pooled_improvement": sum(j["pooled"] == verdict.IMPROVEMENT for j in judgements),
    }


def analyse(bench, invocations, comparisons, seed, threshold=THRESHOLD):
    """invocations: one {metric name: metric} per process run of the pool.
    -> per metric its CVs, its judgements and their tally."""
    pairs = split(len(invocations), comparisons, PER_SIDE,
                  [int(seed), zlib.crc32(bench.encode())])
    names = list(dict.fromkeys(n for inv in invocations for n in inv))
    metrics = {}
    for name in names:
        present = [inv[name] for inv in invocations if name in inv]
        first = present[0]
        all_groups = [g for m in present for g in metric_groups(m)]
        judgements, skipped = [], 0
        for c, (base_idx, now_idx) in enumerate(pairs):
            sides = [[invocations[i].get(name) for i in idx] for idx in (base_idx, now_idx)]
            if any(m is None for side in sides for m in side):
                skipped += 1
                continue
            base_groups = [g for m in sides[0] for g in metric_groups(m)]
            now_groups = [g for m in sides[1] for g in metric_groups(m)]
            if not judgeable(base_groups, now_groups):
                skipped += 1
                continue
            j = judge_three_ways(name, base_groups, now_groups, first["better"], threshold,
                                 seed=c)
            j.update(comparison=c, base=base_idx, now=now_idx)
            judgements.append(j)
        metrics[name] = {
            "unit": first["unit"], "better": first["better"], "runs": len(present),
            "repetitions": statistics.median(len(g) for g in all_groups),
            "within_run_cv": within_run_cv(all_groups),
            "between_run_cv": between_run_cv(all_groups),
            "not_judged": skipped, **tally(judgements), "comparisons": judgements,
        }
    return {"pairs": pairs, "metrics": metrics}


# ---------------------------------------------------------------- the table

def _pct(x):
    return "   n/a" if x is None else f"{100 * x:5.1f}%"


def table(results, comparisons):
    """The text table: one block per benchmark, one line per metric, a total."""
    lines = []
    grand = {}
    for bench, r in results.items():
        inv = r["pool"]
        reps = r["repetitions"]
        lines.append(f"== {bench}: {inv} runs in the pool ({reps} repetition{'s' * (reps > 1)} "
                     f"each), {comparisons} A/A comparisons of {PER_SIDE} runs vs {PER_SIDE}")
        if inv < MIN_POOL:
            lines.append(f"   too few runs to compare ({r['failed']} failed)")
            continue
        width = max(len(n) for n in r["metrics"]) if r["metrics"] else 10
        lines.append(f"{'metric':<{width}}  within  between |  ours: regr incon impr |"
                     f"  bare: fail | pooled: regr impr")
        total = {}
        for name, m in r["metrics"].items():
            lines.append(f"{name:<{width}}  {_pct(m['within_run_cv'])}  {_pct(m['between_run_cv'])}"
                         f"  |  {m['ours_regression']:10d} {m['ours_inconclusive']:5d} "
                         f"{m['ours_improvement']:4d} |  {m['bare_fails']:10d} | "
                         f"{m['pooled_regression']:12d} {m['pooled_improvement']:4d}"
                         + (f"   ({m['not_judged']} not judged: a zero)"
                            if m["not_judged"] else ""))
            for k in ("judgements", "ours_regression", "ours_inconclusive", "ours_improvement",
                      "bare_fails", "pooled_regression", "pooled_improvement"):
                total[k] = total.get(k, 0) + m[k]
        r["total"] = total
        judged = sum(1 for m in r["metrics"].values() if m["judgements"])
        lines.append(_total_line(f"{judged} metrics x {comparisons}", total))
        if reps == 1:
            lines.append("   (one sample a run: the pooled bootstrap is the same as ours, "
                         "and there is no within-run CV)")
        lines.append("")
        for k, v in total.items():
            grand[k] = grand.get(k, 0) + v
    if grand:
        lines.append(_total_line("all benchmarks", grand))
    return "\n".join(lines), grand


def _total_line(what, t):
    n = t.get("judgements", 0)

    def share(k):
        return f"{t.get(k, 0)} ({100 * t.get(k, 0) / n:.1f} %)" if n else "0"
    return (f"   {what} = {n} judgements; false alarms: ours {share('ours_regression')}, "
            f"bare 10 % rule {share('bare_fails')}, pooled bootstrap "
            f"{share('pooled_regression')}; ours inconclusive {share('ours_inconclusive')}; "
            f"'improvements' ours {t.get('ours_improvement', 0)}, pooled "
            f"{t.get('pooled_improvement', 0)}")


# ---------------------------------------------------------------- the measurement

class Benchmark:
    def __init__(self, name, argv, parse, repetitions):
        self.name, self.argv, self.parse, self.repetitions = name, argv, parse, repetitions


def benchmarks(bin_dir, quick):
    procs = 200 if quick else 1000
    count = 200 if quick else 1000
    parser_reps, collector_reps = (3, 2) if quick else (5, 3)

    def gbench(prefix, counters=None):
        return lambda out: {m["name"]: m for m in from_google_benchmark(out, prefix, counters)}

    def loadgen(out):
        return {m["name"]: m for m in from_loadgen([out])}

    gb_out = ["--benchmark_out={out}", "--benchmark_out_format=json"]
    collector_filter = ["--benchmark_filter=^(Floor|HeldFloor|CollectorPlain|CollectorHeld)/"] \
        if quick else []
    return [
        Benchmark("procfs_parsers_bench",
                  [str(bin_dir / "procfs_parsers_bench"), f"--benchmark_repetitions={parser_reps}",
                   "--benchmark_min_time=0.05", *gb_out],
                  gbench("procfs_parsers_bench"), parser_reps),
        Benchmark("collector_bench",
                  [str(bin_dir / "collector_bench"), f"--procs={procs}",
                   f"--benchmark_repetitions={collector_reps}", "--benchmark_min_time=0.3",
                   *collector_filter, *gb_out],
                  gbench("collector_bench", {"plain_vs_floor": ("ratio", "lower", True),
                                             "held_vs_floor": ("ratio", "lower", True)}),
                  collector_reps),
        Benchmark("loadgen",
                  [str(bin_dir / "loadgen"), "run", "--quiet", "--count", str(count),
                   "--profile", "steady", "--kind", "sleep", "--json", "{out}"],
                  loadgen, 1),
    ]


class _Stop(Exception):
    pass


def _on_term(signum, frame):
    raise _Stop(f"signal {signum}")


def process_count():
    """Every process on the machine: another job's thousands change what
    collector_bench reads (it reads all of /proc), not only how fast."""
    return sum(name.isdigit() for name in os.listdir("/proc"))


def run_once(bench, tmp):
    """One process run: (its metrics, wall seconds). The child runs in its
    own session under setpriv --pdeathsig KILL; on any way out its group is
    killed and it is reaped (its own children die with it: PR_SET_PDEATHSIG)."""
    out = os.path.join(tmp, f"{bench.name}.json")
    if os.path.exists(out):
        os.unlink(out)
    argv = [a.replace("{out}", out) for a in bench.argv]
    if shutil.which("setpriv"):
        argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        _, err = p.communicate(timeout=TIMEOUT_S)
    finally:
        if p.returncode is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {err.strip()[-500:]}")
    return bench.parse(out), wall


def measure(benches, pool_max, minutes, seed, log):
    """Times one invocation of each, sizes the pool, then runs it round by
    round (each round every benchmark once, in a shuffled order). Stops
    early, after at least MIN_POOL rounds, when the next round would pass
    the budget."""
    rng = np.random.default_rng([int(seed), 0])
    pools = {b.name: [] for b in benches}
    failed = {b.name: [] for b in benches}
    walls = {b.name: [] for b in benches}
    loads, processes = [], []
    budget = minutes * 60
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aa-false-alarms-") as tmp:
        log("timing one invocation of each (not in the pools)")
        first_round = 0.0
        for b in benches:
            _, wall = run_once(b, tmp)
            first_round += wall
            log(f"  {b.name}: {wall:.1f} s")
        left = budget - (time.monotonic() - t_start)
        fits = int(left // first_round) if first_round > 0 else pool_max
        rounds = max(MIN_POOL, min(pool_max, fits))
        log(f"a round takes about {first_round:.0f} s: {rounds} rounds "
            f"(--pool {pool_max}, {fits} fit in the {left / 60:.1f} min left)")
        for r in range(rounds):
            elapsed = time.monotonic() - t_start
            per_round = (elapsed - first_round) / r if r else first_round
            if r >= MIN_POOL and elapsed + per_round > budget * 1.05:
                log(f"stopping after {r} rounds: the budget of {minutes} min is spent")
                break
            load = os.getloadavg()[0]
            loads.append(load)
            processes.append(process_count())
            for i in rng.permutation(len(benches)):
                b = benches[int(i)]
                try:
                    metrics, wall = run_once(b, tmp)
                except (RuntimeError, OSError, ValueError, KeyError,
                        subprocess.TimeoutExpired) as e:
                    failed[b.name].append(str(e))
                    log(f"[round {r + 1}/{rounds}] {b.name} FAILED: {e}")
                    continue
                pools[b.name].append(metrics)
                walls[b.name].append(wall)
                log(f"[round {r + 1}/{rounds}] {b.name} {wall:5.1f} s  load {load:.2f}  "
                    f"processes {processes[-1]}  "
                    f"elapsed {(time.monotonic() - t_start) / 60:.1f} min")
    return pools, failed, walls, loads, processes, time.monotonic() - t_start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", type=Path, default=Path("build/bin"))
    ap.add_argument("--pool", type=int, default=24, help="most invocations of each (24)")
    ap.add_argument("--minutes", type=float, default=None, help="time budget (25; quick 3)")
    ap.add_argument("--comparisons", type=int, default=COMPARISONS)
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a smoke run: 6 a pool, small sizes")
    ap.add_argument("--out", type=Path, help="everything as JSON")
    ap.add_argument("--rejudge", type=Path, metavar="JSON",
                    help="measure nothing: judge the samples of an earlier --out again")
    args = ap.parse_args(argv)
    pool_max = MIN_POOL if args.quick else args.pool
    minutes = args.minutes if args.minutes is not None else (3 if args.quick else 25)
    if pool_max < MIN_POOL:
        ap.error(f"--pool must be at least {MIN_POOL}")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if args.rejudge:
        doc = json.loads(args.rejudge.read_text())
        measured = {"wall": doc["wall_seconds"], "load_before": doc["load_before"],
                    "load_after": doc["load_after"], "loads": doc["load_per_round"],
                    "processes": doc.get("processes_per_round", []),
                    "benchmarks": {name: {k: r[k] for k in _MEASURED if k in r}
                                   for name, r in doc["benchmarks"].items()}}
        for name, r in measured["benchmarks"].items():
            kinds = r.pop("kinds", None) or {  # a file without them: its metrics say
                n: {"unit": m["unit"], "better": m["better"]}
                for n, m in doc["benchmarks"][name]["metrics"].items()}
            r["pool"] = _pool_from_samples(r.pop("samples"), kinds)
    else:
        benches = benchmarks(args.bin_dir, args.quick)
        for b in benches:
            if not os.access(b.argv[0], os.X_OK):
                ap.error(f"{b.argv[0]} is missing: build first (cmake --build build)")
        signal.signal(signal.SIGTERM, _on_term)
        load_before = os.getloadavg()
        log(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} "
            f"{load_before[2]:.2f}")
        try:
            pools, failed, walls, loads, processes, wall = measure(
                benches, pool_max, minutes, args.seed, log)
        except _Stop as e:
            log(f"stopped: {e}")
            return 130
        load_after = os.getloadavg()
        log(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
        measured = {"wall": wall, "load_before": load_before, "load_after": load_after,
                    "loads": loads, "processes": processes, "benchmarks": {
                        b.name: {"pool": pools[b.name], "repetitions": b.repetitions,
                                 "failures": failed[b.name], "argv": b.argv,
                                 "invocation_seconds": walls[b.name]} for b in benches}}
    log("judging")
    results = {}
    for name, m in measured["benchmarks"].items():
        pool = m["pool"]
        r = {**{k: v for k, v in m.items() if k != "pool"}, "pool": len(pool),
             "failed": len(m["failures"]), "metrics": {}}
        if len(pool) >= MIN_POOL:
            a = analyse(name, pool, args.comparisons, args.seed, args.threshold)
            r["pairs"], r["metrics"] = a["pairs"], a["metrics"]
        r["samples"] = [{n: x["samples"] for n, x in inv.items()} for inv in pool]
        r["kinds"] = {n: {"unit": x["unit"], "better": x["better"]}
                      for inv in pool for n, x in inv.items()}
        results[name] = r
    text, grand = table(results, args.comparisons)
    loads, procs, wall = measured["loads"], measured.get("processes"), measured["wall"]
    before, after = measured["load_before"][0], measured["load_after"][0]
    print(f"A/A false alarms at a {100 * args.threshold:g} % threshold, one build, "
          f"{args.comparisons} comparisons a benchmark of {PER_SIDE} runs vs {PER_SIDE} "
          f"(bare rule: run vs run, mean); measured in {wall / 60:.1f} min; load average "
          f"{before:.2f} before, {after:.2f} after, at each round's start median "
          f"{statistics.median(loads) if loads else math.nan:.2f}, max "
          f"{max(loads) if loads else math.nan:.2f}"
          + (f"; processes on the machine at each round's start: median "
             f"{statistics.median(procs):.0f}, max {max(procs)}" if procs else ""))
    print(text, flush=True)
    if args.out:
        doc = {"threshold": args.threshold, "comparisons": args.comparisons,
               "per_side": PER_SIDE, "seed": args.seed, "quick": args.quick,
               "wall_seconds": wall, "load_before": measured["load_before"],
               "load_after": measured["load_after"], "load_per_round": loads,
               "processes_per_round": procs, "total": grand,
               "benchmarks": results}
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
        log(f"wrote {args.out}")
    return 0


# What --rejudge takes again from an --out file: the measurement, not its judgements.
_MEASURED = ("repetitions", "failures", "argv", "invocation_seconds", "samples", "kinds")


def _pool_from_samples(samples, kinds):
    """An --out file's pool back as metrics: each invocation one process run."""
    return [{n: {"name": n, **kinds[n], "samples": s} for n, s in inv.items()} for inv in samples]

if __name__ == "__main__":
    sys.exit(main())
