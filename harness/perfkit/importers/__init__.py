"""Other tools' results read straight into perfkit.run/1 metrics, one module
per tool: Google Benchmark JSON (every repetition), hyperfine JSON, loadgen's
summary and redis-benchmark's CSV."""
from .google_benchmark import from_google_benchmark
from .hyperfine import from_hyperfine
from .loadgen import from_loadgen
from .redis_benchmark import from_redis_benchmark

__all__ = ["from_google_benchmark", "from_hyperfine", "from_loadgen", "from_redis_benchmark"]
