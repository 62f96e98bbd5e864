"""The bench's verdicts, from made-up summaries: a miss is a miss."""
import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "loadgen_bench", Path(__file__).with_name("loadgen_bench.py"))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def summary(spawn_s=0.3, teardown_s=0.2, rss=20 << 20, failed=0, rate=30000.0):
    return {"asked": 10000, "spawned": 10000 - failed, "failed": {"count": failed, "reasons": {}},
            "spawn_seconds": spawn_s, "teardown_seconds": teardown_s, "peak_rss_bytes": rss,
            "rate_per_s": rate, "spawn_latency_us": {"p50": 20, "p95": 40, "p99": 60}}


def verdicts(results, churn=None, stress=None):
    return {desc: ok for desc, _, _, ok in bench.checks(results, churn, stress)}


def test_all_within_the_bars():
    v = verdicts({"sleep/clone": [summary()], "exec/zygote": [summary(spawn_s=3.0)]},
                 churn={"churn_per_s": 8000, "load_seconds": 30, "failed": {"count": 0}},
                 stress=3000)
    assert v and all(v.values())


def test_sleep_over_one_second_is_a_miss_but_another_kind_may_take_four():
    v = verdicts({"sleep/clone": [summary(spawn_s=1.2)], "cpu/zygote": [summary(spawn_s=1.2)]})
    assert v["sleep/clone: spawn seconds"] is False
    assert v["cpu/zygote: spawn seconds"] is True


def test_median_decides_not_one_repetition():
    v = verdicts({"sleep/clone": [summary(0.5), summary(5.0), summary(0.6)]})
    assert v["sleep/clone: spawn seconds"] is True


def test_teardown_rss_failures_churn_and_stress_ng():
    v = verdicts({"sleep/clone": [summary(teardown_s=1.5, rss=60 << 20, failed=3, rate=2000)]},
                 churn={"churn_per_s": 1500, "load_seconds": 30, "failed": {"count": 0}},
                 stress=3000)
    assert v["sleep/clone: teardown seconds"] is False
    assert v["sleep/clone: loadgen peak RSS MiB"] is False
    assert v["sleep/clone: every child spawned"] is False
    assert v["churn: starts+exits per second over 30 s"] is False
    assert v["sleep/clone: spawn rate vs stress-ng --fork (3000/s)"] is False
