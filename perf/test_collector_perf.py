"""The collector against the /proc floor over the same processes: the ratios
of a cycle to the floor's, timed within each iteration, hold across machines
and are judged against any baseline; the cycle time against the users' bound
(< 100 ms at 1,000 processes). psutil's and ps's times over ours are
measured too, for the report: timed apart from ours, they were undecided at a
10 % threshold in every quick run here, and are no bar of this suite.
"""
import pytest

import measure

pytestmark = pytest.mark.perf


def ours(n):
    """Our cycle in both modes, and its ratios to the floor."""
    return [f"collector.CollectorPlain/{n}/*", f"collector.CollectorHeld/{n}/*",
            f"collector.ratio.n{n}.plain_vs_floor", f"collector.ratio.n{n}.held_vs_floor"]


@pytest.mark.quick
def test_collector_at_1000_processes(perf_judge, tmp_path):
    run = measure.collector(tmp_path, 1000)
    perf_judge.check(run, ours(1000), remeasure=lambda: measure.collector(tmp_path, 1000))


def test_collector_at_10000_processes(perf_judge, tmp_path):
    run = measure.collector(tmp_path, 10_000)
    perf_judge.check(run, ours(10_000), remeasure=lambda: measure.collector(tmp_path, 10_000))
