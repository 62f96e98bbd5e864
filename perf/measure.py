"""The measurements of the perf suite, each a perfkit.run/1 dict whose metrics
carry the names ci/validate.sh gives them (so a run is judged against the
same stored baseline) and whose process runs are separate processes: the
level at which the next run will differ."""
import json
import os
import subprocess
import sys
from pathlib import Path

from perfkit import importers, runfile
from perfkit.merge import merge_metrics
from perfkit.pytest_plugin import build_dir, repository

PY = sys.executable


def _run_of(metrics):
    run = runfile.new_run(build_dir=build_dir(), repo=repository())
    run["metrics"] = metrics
    return run


def _metrics_json(path):
    return importers.from_metrics_json(json.loads(Path(path).read_text()))


def _script(cmd, metrics, env=None):
    """Runs a bench script that writes --metrics FILE. Its exit status says
    whether its own bars were met, which is the judge's to say here; a
    script that wrote no metrics failed, and its output says why."""
    done = subprocess.run([PY, *map(str, cmd), "--metrics", str(metrics)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})})
    if not Path(metrics).exists():
        raise RuntimeError(f"{Path(cmd[0]).name} wrote no metrics (status {done.returncode}):\n"
                           + (done.stdout + done.stderr)[-3000:])
    return _metrics_json(metrics)


def collector(tmp, procs, invocations=3, reps=3, env=None):
    """collector_bench over `procs` processes, once a process run, and the
    ratios to the floor measured within each (collector_report.py)."""
    files = []
    for i in range(invocations):
        out = Path(tmp) / f"collector_{procs}_{i}.json"
        subprocess.run([build_dir() / "bin" / "collector_bench", f"--procs={procs}",
                        f"--benchmark_repetitions={reps}",
                        "--benchmark_enable_random_interleaving=true",
                        "--benchmark_min_time=0.3", "--benchmark_display_aggregates_only=true",
                        f"--benchmark_out={out}", "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
        files.append(out)
    ratios = _script([repository() / "daemon/bench/collector_report.py", *files],
                     Path(tmp) / f"collector_ratios_{procs}.json")
    timed = merge_metrics([importers.from_google_benchmark(json.loads(f.read_text()), "collector")
                           for f in files])
    return _run_of(timed + ratios)


def daemon(tmp, invocations=3):
    """daemon_bench (events/s, WAL writes/s, backpressure, start), a process run each."""
    files = []
    for i in range(invocations):
        out = Path(tmp) / f"daemon_bench_{i}.json"
        subprocess.run([build_dir() / "bin" / "daemon_bench", f"--benchmark_out={out}",
                        "--benchmark_out_format=json"], check=True, stdout=subprocess.DEVNULL)
        files.append(out)
    return _run_of(_script([repository() / "daemon/bench/daemon_report.py", *files],
                           Path(tmp) / "daemon_metrics.json"))


def sampler(tmp, seconds=2, reps=3, tree=1000):
    """perfkit's sampler: one sample vs psutil's, its CPU at 100 Hz, a tree walk."""
    return _run_of(_script([repository() / "harness/bench/sampler_bench.py", "--seconds",
                            seconds, "--reps", reps, "--tree", tree],
                           Path(tmp) / "sampler_metrics.json",
                           env={"PYTHONPATH": str(repository() / "harness")}))


def loadgen(tmp, configs, reps=3, count=10_000, churn_seconds=5):
    """loadgen's spawn rate, teardown and start lag (its churn run), `reps` runs each."""
    return _run_of(_script([repository() / "loadgen/bench/loadgen_bench.py", "--bin-dir",
                            build_dir() / "bin", "--reps", reps, "--count", count,
                            "--configs", ",".join(configs), "--churn-seconds", churn_seconds,
                            "--stress-seconds", "0"], Path(tmp) / "loadgen_metrics.json"))


def scenario(tmp, path, phases=None, repetitions=3):
    """A shipped scenario (only the named phases, if given), its metrics named
    after it as validate.sh imports them: redis.benchmark.sut.cpu_mean_percent."""
    from perfkit.runner import run_scenario
    from perfkit.scenario import load, only_phases
    sc = load(repository() / path)
    if phases:
        sc = only_phases(sc, phases)
    run = run_scenario(sc, build_dir=build_dir(), repo=repository(),
                       series_path=Path(tmp) / f"{sc.name}.npz", repetitions=repetitions)
    run["metrics"] = [{**m, "name": f"{sc.name}.{m['name']}"} for m in run["metrics"]]
    return run
