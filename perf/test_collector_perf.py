"""The collector against the /proc floor, psutil and ps over the same processes:
ratios measured within one process run hold across machines and are judged
against any baseline; the cycle time against the users' bound (< 100 ms at
1,000 processes)."""
import pytest

import measure

pytestmark = pytest.mark.perf


@pytest.mark.quick
def test_collector_at_1000_processes(perf_judge, tmp_path):
    run = measure.collector(tmp_path, 1000)
    perf_judge.check(run, ["collector.*/1000/*", "collector.ratio.n1000.*"],
                     remeasure=lambda: measure.collector(tmp_path, 1000))


def test_collector_at_10000_processes(perf_judge, tmp_path):
    run = measure.collector(tmp_path, 10_000)
    perf_judge.check(run, ["collector.*/10000/*", "collector.ratio.n10000.*"],
                     remeasure=lambda: measure.collector(tmp_path, 10_000))
