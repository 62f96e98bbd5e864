#!/usr/bin/env python3
"""Reads daemon_bench's Google Benchmark JSON (one file per invocation: one
process run) and prints each figure of `procmond run` beside the users' bound
and our own aim, with a verdict. Exits 1 when a users' bound is missed (our
aims are reported, not enforced). Both come from the reviewed rules file
(baselines/metrics.toml: each rule's `target` and `aim`), read through
perfkit's rules, so the bench and the comparator never disagree on a bound.

With --metrics FILE it also writes the figures as a metrics JSON for
`perfkit import metrics-json` ({"metrics": [...]}), one sample per file and
benchmark repetition, `runs` counting them per file.

    daemon_report.py BENCH.json [BENCH.json ...] [--metrics FILE] [--rules FILE]
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "harness"))  # perfkit's rules, from this repository
from perfkit import rules  # noqa: E402

# (metric, benchmark run name, counter, unit, better)
FIGURES = (
    ("daemon.events_per_s.one_subscriber",
     "BM_EventsToSubscribers/subscribers:1/events:1000000/iterations:1/manual_time",
     "events_per_s_each", "1/s", "higher"),
    ("daemon.events_per_s.each_of_eight",
     "BM_EventsToSubscribers/subscribers:8/events:500000/iterations:1/manual_time",
     "events_per_s_each", "1/s", "higher"),
    ("daemon.wal.batch_durable_per_s",
     "BM_EventsToSubscribers/subscribers:1/events:1000000/iterations:1/manual_time",
     "durable_records_per_s", "1/s", "higher"),
    ("daemon.wal.always_durable_per_s",
     "BM_WalAlways/subscribers:1/events:20000/iterations:1/manual_time",
     "durable_records_per_s", "1/s", "higher"),
    ("daemon.wal.never_per_s",
     "BM_WalNever/subscribers:1/events:1000000/iterations:1/manual_time",
     "durable_records_per_s", "1/s", "higher"),
    ("daemon.stall_to_stretch_ms.at_10k_per_s",
     "BM_BackpressureReaction/events_per_s:10000/iterations:3/manual_time",
     "stall_to_stretch_ms", "ms", "lower"),
    ("daemon.stall_to_stretch_ms.at_100k_per_s",
     "BM_BackpressureReaction/events_per_s:100000/iterations:3/manual_time",
     "stall_to_stretch_ms", "ms", "lower"),
    ("daemon.start_to_accept_ms", "BM_StartToAccept/iterations:5/manual_time",
     "start_to_accept_ms", "ms", "lower"),
)


def load(paths):
    """{metric: [[samples of file 1], [samples of file 2], ...]}"""
    out = {f[0]: [] for f in FIGURES}
    for path in paths:
        with open(path) as fh:
            doc = json.load(fh)
        for name, run_name, counter, *_ in FIGURES:
            samples = [b[counter] for b in doc["benchmarks"]
                       if b.get("run_type", "iteration") == "iteration"
                       and b.get("run_name", b["name"]) == run_name and counter in b
                       and not b.get("error_occurred")]
            if samples:
                out[name].append(samples)
    return out


def meets(value, bound, better):
    return bound is None or (value >= bound if better == "higher" else value <= bound)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--metrics", help="write the figures as perfkit metrics JSON here")
    ap.add_argument("--rules", type=Path, default=REPO / "baselines" / "metrics.toml",
                    help="the bounds' rules file (default: baselines/metrics.toml)")
    args = ap.parse_args()
    figures = load(args.files)
    bounds = rules.load(args.rules)
    missed = 0
    print(f"{'figure':42} {'median':>12} {'users bound':>12} {'our aim':>10}  verdict")
    for name, _, _, unit, better in FIGURES:
        settings = bounds.for_metric({"name": name, "better": better, "portable": False})
        bound, aim = settings.target, settings.aim
        runs = figures[name]
        if not runs:
            print(f"{name:42} {'(missing)':>12}")
            missed += 1
            continue
        med = statistics.median(s for run in runs for s in run)
        ok_users, ok_ours = meets(med, bound, better), meets(med, aim, better)
        missed += not ok_users
        sign = ">" if better == "higher" else "<"
        verdict = ("met" if ok_users else "MISSED") + (
            "" if aim is None else (", our aim met" if ok_ours else ", our aim not met"))
        print(f"{name:42} {med:>12,.1f} {sign + format(bound, ',g') if bound else '-':>12} "
              f"{sign + format(aim, ',g') if aim else '-':>10}  {verdict}  ({unit})")
    if args.metrics:
        metrics = [{"name": name, "unit": unit, "better": better, "portable": False,
                    "samples": [s for run in figures[name] for s in run],
                    "runs": [len(run) for run in figures[name]]}
                   for name, _, _, unit, better in FIGURES if figures[name]]
        with open(args.metrics, "w") as fh:
            json.dump({"metrics": metrics}, fh, indent=2, sort_keys=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
