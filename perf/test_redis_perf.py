"""The same suite on a daemon we did not write: redis-server under
redis-benchmark, from its scenario file, proves the suite is not procmond's
alone."""
import pytest

import measure

pytestmark = pytest.mark.perf

SCENARIO = "harness/scenarios/redis.toml"


def test_redis_under_redis_benchmark(perf_judge, tmp_path, redis_server):
    run = measure.scenario(tmp_path, SCENARIO)
    perf_judge.check(run, "redis.*", remeasure=lambda: measure.scenario(tmp_path, SCENARIO))


@pytest.mark.quick
def test_a_sampled_sut_in_a_few_lines(sampled_sut, redis_server):
    # What a user writes for a daemon of their own: start, ready, sample, stop.
    s = sampled_sut(["redis-server", "--bind", "127.0.0.1", "--port", "{port}", "--save", "",
                     "--dir", "{tmp}"],
                    ready={"tcp": "127.0.0.1:{port}"}, seconds=2)
    assert 1e6 < s["measure.sut.peak_rss_bytes"] < 100e6
    assert s["measure.sut.cpu_mean_percent"] < 50
