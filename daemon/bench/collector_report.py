#!/usr/bin/env python3
"""Reads collector_bench's Google Benchmark JSON (one file per process count, or
one for all) and prints medians, the ratios that hold on any machine, and each
bar of the collector's issue with a verdict. Exits 1 when a bar is missed.

With --metrics FILE it also writes, as a metrics JSON for `perfkit import
metrics-json` ({"metrics": [...]}, perfkit.run/1 metric objects), the ratios
measured within each file: each file is one invocation of collector_bench (one
process run), so each ratio gets one sample per file, `runs` [1, 1, ...]. They
are portable: measured against contenders timed in the same process, they hold
on another machine, where the absolute times do not.

    collector_report.py BENCH.json [BENCH.json ...] [--metrics FILE]
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict

# The collector's bars (issue 2). Every ratio is measured within one run; the
# ratios to the floor come from the Paired benchmark, which times the floor and
# both modes within each iteration, so that a noisy neighbour cannot favour one.
PLAIN_MAX_VS_FLOOR = 1.15   # a full plain cycle vs open/read/close of each stat
HELD_MAX_VS_FLOOR = 1.0     # held mode goes below that floor
MAX_EXTRA_GROWTH = 1.15     # µs/process growth from smallest to largest N, over the floor's own
PLAIN_MIN_SPEEDUP = 4.0     # psutil's and ps's time over ours
HELD_MIN_SPEEDUP = 8.0
USERS_BOUND_MS_PER_1000 = 100.0
BPF_MAX_VS_FLOOR = 0.1      # the BPF collector's full cycle: a tenth of the floor at most

BENCHMARKS = ("Floor", "HeldFloor", "CollectorPlain", "CollectorHeld", "Paired", "Psutil", "Ps")
# Run only where BPF loads (root, a kernel with BTF; a build with libbpf):
# judged when present, said when absent.
BPF_BENCHMARKS = ("CollectorBpf", "BpfWalk")
FLOOR_OF = {"CollectorPlain": "Floor", "CollectorHeld": "HeldFloor"}
COUNTERS = ("held_fds", "fd_limit", "slab_kib_per_held_fd", "plain_vs_floor", "held_vs_floor",
            "bpf_vs_floor", "bytes")


def load(paths):
    """{(name, n): {"ms": [per repetition], "procs": [...], "counters": {key: [...]}}}"""
    runs = defaultdict(lambda: {"ms": [], "procs": [], "counters": defaultdict(list)})
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        _add(runs, doc)
    return runs


def _add(runs, doc):
    """One Google Benchmark document's repetitions added to `runs` (see load)."""
    for b in doc["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        name, n = b["run_name"].split("/")[:2]
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        r = runs[(name, int(n))]
        r["ms"].append(b["real_time"] * scale)
        r["procs"].append(b["procs"])
        for key in COUNTERS:
            if key in b:
                r["counters"][key].append(b[key])


# The ratios written by --metrics, per N: (name, better, how from one file's runs).
def _ratios(runs, n):
    def ms(name):
        return median(runs.get((name, n), {}).get("ms", []))

    def paired(key):
        return median(runs.get(("Paired", n), {}).get("counters", {}).get(key, []))

    return [("plain_vs_floor", "lower", paired("plain_vs_floor")),
            ("held_vs_floor", "lower", paired("held_vs_floor")),
            ("bpf_vs_floor", "lower", paired("bpf_vs_floor")),
            ("psutil_vs_bpf", "higher", ms("Psutil") / ms("CollectorBpf")),
            ("psutil_vs_plain", "higher", ms("Psutil") / ms("CollectorPlain")),
            ("psutil_vs_held", "higher", ms("Psutil") / ms("CollectorHeld")),
            ("ps_vs_plain", "higher", ms("Ps") / ms("CollectorPlain")),
            ("ps_vs_held", "higher", ms("Ps") / ms("CollectorHeld"))]


def metrics_of(paths):
    """The portable ratios of each file (one invocation, one process run) as
    perfkit.run/1 metrics: collector.ratio.nN.WHAT, one sample per file that
    measured N. A ratio a file cannot give (a benchmark missing) is left out."""
    by_name = {}
    for path in paths:
        runs = defaultdict(lambda: {"ms": [], "procs": [], "counters": defaultdict(list)})
        with open(path) as f:
            _add(runs, json.load(f))
        for n in sorted({n for _, n in runs}):
            for what, better, value in _ratios(runs, n):
                if value == value:  # not NaN
                    m = by_name.setdefault(f"collector.ratio.n{n}.{what}", {
                        "name": f"collector.ratio.n{n}.{what}", "unit": "ratio",
                        "better": better, "samples": [], "runs": [], "portable": True})
                    m["samples"].append(value)
                    m["runs"].append(1)
    return list(by_name.values())


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def print_table(runs, sizes):
    print(f"{'benchmark':<16}{'N':>7}{'procs':>8}{'reps':>6}{'ms/cycle':>11}"
          f"{'µs/proc':>10}{'vs Floor':>10}")
    for n in sizes:
        floor = median(runs[("Floor", n)]["ms"]) if ("Floor", n) in runs else float("nan")
        for name in BENCHMARKS + BPF_BENCHMARKS:
            r = runs.get((name, n))
            if not r or not r["ms"]:
                print(f"{name:<16}{n:>7}   (missing: see the benchmark's errors)")
                continue
            ms, procs = median(r["ms"]), median(r["procs"])
            if name == "Paired":  # a cycle of each per iteration: only its ratios mean anything
                print(f"{name:<16}{n:>7}{procs:>8.0f}{len(r['ms']):>6}{'':>11}{'':>10}{'':>10}")
            else:
                print(f"{name:<16}{n:>7}{procs:>8.0f}{len(r['ms']):>6}{ms:>11.2f}"
                      f"{ms * 1e3 / procs:>10.2f}{ms / floor:>9.2f}x")
            for key, values in r["counters"].items():
                print(f"{'':<23}  {key} = {median(values):.2f}")


def checks(runs, sizes):
    """[(description, value, bar text, ok or None for information)]"""
    def ms(name, n):
        return median(runs.get((name, n), {}).get("ms", []))

    def us_per_proc(name, n):
        return ms(name, n) * 1e3 / median(runs.get((name, n), {}).get("procs", [])) \
            if (name, n) in runs else float("nan")

    def paired(key, n):
        return median(runs.get(("Paired", n), {}).get("counters", {}).get(key, []))

    out = []
    for n in sizes:
        # Past the fd budget held mode reads plain: its bars would then judge a mix.
        for name in ("HeldFloor", "CollectorHeld"):
            r = runs.get((name, n), {})
            held = r.get("counters", {}).get("held_fds")
            if held:
                limit = median(r["counters"].get("fd_limit", []))
                out.append((f"{name} stat fds held / processes at N={n}",
                            median(held) / median(r["procs"]),
                            f">= 1 (fd limit {limit:.0f})", median(held) >= median(r["procs"])))
        plain, held = ms("CollectorPlain", n), ms("CollectorHeld", n)
        ratio = paired("plain_vs_floor", n)
        out.append((f"CollectorPlain / Floor at N={n} (paired)", ratio,
                    f"<= {PLAIN_MAX_VS_FLOOR}", ratio <= PLAIN_MAX_VS_FLOOR))
        ratio = paired("held_vs_floor", n)
        out.append((f"CollectorHeld / Floor at N={n} (paired)", ratio,
                    f"< {HELD_MAX_VS_FLOOR}", ratio < HELD_MAX_VS_FLOOR))
        out.append((f"CollectorHeld / HeldFloor at N={n}", held / ms("HeldFloor", n),
                    "(unpaired: the two cannot hold their fds at once)", None))
        for tool in ("Psutil", "Ps"):
            other = ms(tool, n)
            out.append((f"{tool} / CollectorPlain at N={n}", other / plain,
                         f">= {PLAIN_MIN_SPEEDUP}", other / plain >= PLAIN_MIN_SPEEDUP))
            out.append((f"{tool} / CollectorHeld at N={n}", other / held,
                         f">= {HELD_MIN_SPEEDUP}", other / held >= HELD_MIN_SPEEDUP))
        ratio = paired("bpf_vs_floor", n)
        if ratio == ratio:
            out.append((f"CollectorBpf / Floor at N={n} (paired)", ratio,
                        f"<= {BPF_MAX_VS_FLOOR}", ratio <= BPF_MAX_VS_FLOOR))
            out.append((f"CollectorBpf / BpfWalk at N={n}", ms("CollectorBpf", n) / ms("BpfWalk", n),
                        "(decoding and the cache over the kernel's walk)", None))
        else:
            out.append((f"CollectorBpf at N={n}: not measured (BPF did not load)", float("nan"),
                        "", None))
        per_1000 = us_per_proc("CollectorPlain", n)  # µs per process = ms per 1,000
        out.append((f"CollectorPlain ms per 1,000 processes at N={n}", per_1000,
                    f"< {USERS_BOUND_MS_PER_1000}", per_1000 < USERS_BOUND_MS_PER_1000))
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        for mode, floor in FLOOR_OF.items():
            ours = us_per_proc(mode, hi) / us_per_proc(mode, lo)
            kernel = us_per_proc(floor, hi) / us_per_proc(floor, lo)
            out.append((f"{floor} µs/proc N={hi} / N={lo}", kernel, "(the kernel's own growth)",
                        None))
            out.append((f"{mode} µs/proc growth / {floor}'s", ours / kernel,
                        f"<= {MAX_EXTRA_GROWTH}", ours / kernel <= MAX_EXTRA_GROWTH))
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", metavar="BENCH.json")
    ap.add_argument("--metrics", metavar="FILE",
                    help="also write each file's portable ratios here as a metrics JSON")
    a = ap.parse_args(argv[1:])
    runs = load(a.files)
    sizes = sorted({n for _, n in runs})
    missing = [f"{name}/{n}" for n in sizes for name in BENCHMARKS if (name, n) not in runs]
    if not sizes or missing:
        print("collector_report: no repetitions found for "
              f"{', '.join(missing) or 'any benchmark'} (run with --benchmark_repetitions, "
              "without --benchmark_report_aggregates_only)", file=sys.stderr)
        return 1
    print_table(runs, sizes)
    print()
    failed = 0
    for desc, value, bar, ok in checks(runs, sizes):
        verdict = "  --" if ok is None else (" ok " if ok else "MISS")
        failed += ok is False
        print(f"[{verdict}] {desc:<48} {value:8.2f}  {bar}")
    print(f"\n{failed} bar(s) missed" if failed else "\nevery bar met")
    if a.metrics:
        with open(a.metrics, "w") as f:
            json.dump({"metrics": metrics_of(a.files)}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
