"""A phase's benchmarks: each run (once when the tool repeats itself into
{out}, else once per repetition), and what it wrote imported as metrics."""
import shutil
import time

from . import importers, runfile
from .errors import RunError
from .merge import merge_metrics
from .scenario import BENCH_FORMATS, Placeholders, expand


def run_benchmarks(run, phase):
    """run: the runner's run (its tmp, values, start, children, sut, progress).
    Returns the metrics of every benchmark of the phase, in order."""
    metrics = []
    for bench in phase.benchmarks:
        metrics += _run_benchmark(run, phase, bench)
    return metrics


def _run_benchmark(run, phase, bench):
    prefix = f"{phase.name}.{bench.name}"
    out = run.tmp / f"{prefix}.json"
    values = Placeholders(run.values, out=str(out), repetitions=str(bench.repetitions))
    argv = expand(bench.command, values)
    if not shutil.which(argv[0]):
        raise RunError(f"benchmark {prefix}: {argv[0]!r} is not found or not executable")
    by_tool = BENCH_FORMATS[bench.format] == "tool"
    walls, texts = [], []
    for rep in range(1 if by_tool else bench.repetitions):
        run.progress.say(f"  benchmark {bench.name}"
                         + ("" if by_tool else f" ({rep + 1}/{bench.repetitions})"))
        started = time.monotonic()
        child = run.start(prefix, argv)
        if not child.wait(bench.timeout_s):
            run.children.stop(child)
            raise RunError(f"benchmark {prefix} ran past its timeout_s of "
                           f"{bench.timeout_s:g} s:\n{child.log_tail()}")
        walls.append(time.monotonic() - started)
        status = run.children.stop(child)
        if status != 0:
            raise RunError(f"benchmark {prefix} failed with status {status}:\n"
                           f"{child.log_tail()}")
        texts.append(child.log_path.read_text(errors="replace"))
        run.sut.check(f"during benchmark {prefix}")
    return _import(bench.format, prefix, out, texts, walls)


def _import(fmt, prefix, out, texts, walls):
    """The benchmark's figures: from its {out} file, from its output, or the
    runner's own wall clock (plain `time`)."""
    if fmt == "google-benchmark":
        return importers.from_google_benchmark(out, prefix)
    if fmt == "hyperfine":
        return importers.from_hyperfine(out, prefix)
    if fmt == "pytest-benchmark":
        return importers.from_pytest_benchmark(out, prefix)
    if fmt == "redis-benchmark":
        return importers.from_redis_benchmark(texts, prefix)
    by_text = {"wrk": importers.from_wrk, "lines": importers.from_lines,
               "metrics-json": importers.from_metrics_json}
    if fmt in by_text:
        try:
            return merge_metrics([by_text[fmt](text, prefix) for text in texts])
        except ValueError as e:  # json's, the importers' and MergeError
            raise RunError(f"benchmark {prefix}: its output is not {fmt}: {e}") from None
    return [runfile.metric(f"{prefix}.seconds", "s", "lower", walls, runs=[1] * len(walls))]
