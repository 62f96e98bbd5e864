"""loadgen: 10,000 children spawned and torn down, and how late each start of
a churn was against its schedule (coordinated omission: what it delivered,
not what it was asked)."""
import pytest

import measure

pytestmark = pytest.mark.perf


def test_spawn_teardown_and_start_lag(perf_judge, tmp_path):
    configs = ["sleep/clone", "sleep/zygote"]
    run = measure.loadgen(tmp_path, configs)
    perf_judge.check(run, "loadgen.*", remeasure=lambda: measure.loadgen(tmp_path, configs))
