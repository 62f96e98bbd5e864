"""collector_report.py's verdicts on hand-made benchmark output."""
import json
import subprocess
import sys
from pathlib import Path

REPORT = Path(__file__).with_name("collector_report.py")


def bench_json(tmp_path, ms_by_name, n=1000, procs=1000, reps=3, paired=None, counters=None):
    """Benchmark JSON as collector_bench writes it. The Paired ratios default to
    the ratios of the given times; counters adds {name: {counter: value}}."""
    if paired is None:
        paired = {"plain_vs_floor": ms_by_name["CollectorPlain"] / ms_by_name["Floor"],
                  "held_vs_floor": ms_by_name["CollectorHeld"] / ms_by_name["Floor"]}
    rows = []
    for name, ms in list(ms_by_name.items()) + [("Paired", 3 * ms_by_name["Floor"])]:
        for rep in range(reps):
            row = {"run_name": f"{name}/{n}/real_time", "run_type": "iteration",
                   "repetition_index": rep, "real_time": ms * 1e6, "time_unit": "ns",
                   "procs": procs}
            if name == "Paired":
                row.update(paired)
            row.update((counters or {}).get(name, {}))
            rows.append(row)
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"context": {}, "benchmarks": rows}))
    return path


def run(path):
    return subprocess.run([sys.executable, REPORT, path], capture_output=True, text=True)


def test_all_bars_met_exits_zero(tmp_path):
    r = run(bench_json(tmp_path, {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 11,
                                  "CollectorHeld": 5.5, "Psutil": 100, "Ps": 80}))
    assert r.returncode == 0, r.stdout
    assert "every bar met" in r.stdout
    assert "MISS" not in r.stdout


def test_plain_too_far_above_the_floor_is_a_miss(tmp_path):
    r = run(bench_json(tmp_path, {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 12,
                                  "CollectorHeld": 5, "Psutil": 100, "Ps": 80}))
    assert r.returncode == 1
    assert "[MISS] CollectorPlain / Floor at N=1000 (paired)" in r.stdout


def test_too_little_lead_over_ps_is_a_miss(tmp_path):
    r = run(bench_json(tmp_path, {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 10,
                                  "CollectorHeld": 5, "Psutil": 100, "Ps": 30}))
    assert r.returncode == 1
    assert "[MISS] Ps / CollectorPlain" in r.stdout and "[MISS] Ps / CollectorHeld" in r.stdout


def test_growth_is_judged_against_the_floors_own_growth(tmp_path):
    base = {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 10, "CollectorHeld": 5,
            "Psutil": 100, "Ps": 80}
    # Ten times the processes. The kernel's floors grow 1.3x per process; plain
    # grows the same (fine), held 3x (a step of our own).
    large = {"Floor": 130, "HeldFloor": 65, "CollectorPlain": 130, "CollectorHeld": 150,
             "Psutil": 1000, "Ps": 800}
    rows = []
    for n, times in ((1000, base), (10000, large)):
        rows += json.loads(bench_json(tmp_path, times, n=n, procs=n).read_text())["benchmarks"]
    path = tmp_path / "both.json"
    path.write_text(json.dumps({"benchmarks": rows}))
    r = run(path)
    assert r.returncode == 1
    assert "[ ok ] CollectorPlain µs/proc growth / Floor's" in r.stdout
    assert "[MISS] CollectorHeld µs/proc growth / HeldFloor's" in r.stdout


def test_one_file_per_size_reads_as_one_run(tmp_path):
    times = {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 10, "CollectorHeld": 5,
             "Psutil": 100, "Ps": 80}
    a = bench_json(tmp_path, times, n=1000, procs=1000).rename(tmp_path / "a.json")
    b = bench_json(tmp_path, {k: v * 10 for k, v in times.items()}, n=10000,
                   procs=10000).rename(tmp_path / "b.json")
    r = subprocess.run([sys.executable, REPORT, a, b], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    assert "N=10000 / N=1000" in r.stdout


def test_no_repetitions_is_a_failure_not_a_pass(tmp_path):
    path = tmp_path / "aggregates.json"
    path.write_text(json.dumps({"benchmarks": [
        {"run_name": "Floor/1000/real_time", "run_type": "aggregate", "aggregate_name": "median",
         "real_time": 1e7, "time_unit": "ns", "procs": 1000}]}))
    r = run(path)
    assert r.returncode == 1
    assert "no repetitions found" in r.stderr


def test_the_paired_ratio_decides_not_the_unpaired_times(tmp_path):
    # Unpaired times say plain is 1.3x the floor (a neighbour slowed it); the
    # paired iterations say 1.02x.
    times = {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 13, "CollectorHeld": 5.5,
             "Psutil": 100, "Ps": 80}
    r = run(bench_json(tmp_path, times, paired={"plain_vs_floor": 1.02,
                                                "held_vs_floor": 0.55}))
    assert r.returncode == 0, r.stdout
    r = run(bench_json(tmp_path, times, paired={"plain_vs_floor": 1.02,
                                                "held_vs_floor": 1.05}))
    assert "[MISS] CollectorHeld / Floor at N=1000 (paired)" in r.stdout


def test_a_missing_benchmark_is_a_failure(tmp_path):
    r = run(bench_json(tmp_path, {"Floor": 10, "CollectorPlain": 10, "CollectorHeld": 5}))
    assert r.returncode == 1
    assert "HeldFloor/1000" in r.stderr and "Psutil/1000" in r.stderr


def test_usage_without_a_file(tmp_path):
    r = subprocess.run([sys.executable, REPORT], capture_output=True, text=True)
    assert r.returncode == 2


def test_held_mode_that_fell_back_to_plain_reads_is_a_miss(tmp_path):
    times = {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 11, "CollectorHeld": 5.5,
             "Psutil": 100, "Ps": 80}
    held_all = {"held_fds": 10000, "fd_limit": 20000}
    r = run(bench_json(tmp_path, times, n=10000, procs=10000,
                       counters={"HeldFloor": held_all, "CollectorHeld": held_all}))
    assert r.returncode == 0, r.stdout
    assert "[ ok ] CollectorHeld stat fds held / processes at N=10000" in r.stdout
    # Debian's default soft limit: 768 held, the rest read plain.
    held_few = {"held_fds": 768, "fd_limit": 1024}
    r = run(bench_json(tmp_path, times, n=10000, procs=10000,
                       counters={"HeldFloor": held_few, "CollectorHeld": held_few}))
    assert r.returncode == 1
    assert "[MISS] CollectorHeld stat fds held / processes at N=10000" in r.stdout
    assert "(fd limit 1024)" in r.stdout


def test_metrics_give_each_file_one_sample_of_each_portable_ratio(tmp_path):
    # Two invocations at N=1000 (two process runs), one at N=10000.
    times = {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 11, "CollectorHeld": 5.5,
             "Psutil": 100, "Ps": 80}
    a = bench_json(tmp_path, times).rename(tmp_path / "a.json")
    b = bench_json(tmp_path, {**times, "Psutil": 110}).rename(tmp_path / "b.json")
    c = bench_json(tmp_path, times, n=10000, procs=10000).rename(tmp_path / "c.json")
    out = tmp_path / "metrics.json"
    r = subprocess.run([sys.executable, REPORT, a, b, c, "--metrics", out], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    metrics = {m["name"]: m for m in json.loads(out.read_text())["metrics"]}
    psutil = metrics["collector.ratio.n1000.psutil_vs_plain"]
    assert psutil["samples"] == [100 / 11, 110 / 11] and psutil["runs"] == [1, 1]
    assert psutil["portable"] and psutil["unit"] == "ratio" and psutil["better"] == "higher"
    floor = metrics["collector.ratio.n10000.plain_vs_floor"]
    assert floor["samples"] == [1.1] and floor["better"] == "lower"
    assert {n.rsplit(".", 1)[1] for n in metrics} == {
        "plain_vs_floor", "held_vs_floor", "psutil_vs_plain", "psutil_vs_held", "ps_vs_plain",
        "ps_vs_held"}


BASE_MS = {"Floor": 10, "HeldFloor": 5, "CollectorPlain": 11, "CollectorHeld": 5.5, "Psutil": 100,
           "Ps": 80}


def with_bpf(bpf_vs_floor, bpf_ms=0.5):
    ms = dict(BASE_MS, CollectorBpf=bpf_ms, BpfWalk=bpf_ms / 2)
    paired = {"plain_vs_floor": 1.1, "held_vs_floor": 0.55, "bpf_vs_floor": bpf_vs_floor}
    return ms, paired


def test_the_bpf_collector_is_judged_against_a_tenth_of_the_floor(tmp_path):
    ms, paired = with_bpf(0.05)
    r = run(bench_json(tmp_path, ms, paired=paired))
    assert r.returncode == 0, r.stdout
    assert "[ ok ] CollectorBpf / Floor at N=1000 (paired)" in r.stdout
    ms, paired = with_bpf(0.2)
    r = run(bench_json(tmp_path, ms, paired=paired))
    assert r.returncode == 1, r.stdout
    assert "[MISS] CollectorBpf / Floor at N=1000 (paired)" in r.stdout


def test_without_bpf_the_report_says_so_and_judges_the_rest(tmp_path):
    r = run(bench_json(tmp_path, BASE_MS))
    assert r.returncode == 0, r.stdout
    assert "CollectorBpf at N=1000: not measured (BPF did not load)" in r.stdout


def test_the_bpf_ratio_is_a_portable_metric(tmp_path):
    ms, paired = with_bpf(0.05)
    path = bench_json(tmp_path, ms, paired=paired)
    out = tmp_path / "metrics.json"
    r = subprocess.run([sys.executable, REPORT, path, "--metrics", out], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout
    metrics = {m["name"]: m for m in json.loads(out.read_text())["metrics"]}
    assert metrics["collector.ratio.n1000.bpf_vs_floor"]["samples"] == [0.05]
    assert metrics["collector.ratio.n1000.bpf_vs_floor"]["better"] == "lower"
    assert metrics["collector.ratio.n1000.psutil_vs_bpf"]["samples"] == [200.0]
