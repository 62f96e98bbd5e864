"""Other tools' results read straight into perfkit.run/1 metrics, one module
per tool: Google Benchmark JSON (every repetition), hyperfine JSON, loadgen's
summary, redis-benchmark's CSV, pytest-benchmark JSON, wrk's text, and the
generic ones any tool can print (lines, metrics JSON)."""
from .generic import from_lines, from_metrics_json
from .google_benchmark import from_google_benchmark
from .hyperfine import from_hyperfine
from .loadgen import from_loadgen
from .pytest_benchmark import from_pytest_benchmark
from .redis_benchmark import from_redis_benchmark
from .wrk import from_wrk

__all__ = ["from_google_benchmark", "from_hyperfine", "from_lines", "from_loadgen",
           "from_metrics_json", "from_pytest_benchmark", "from_redis_benchmark", "from_wrk"]
