"""The rate search and its verdict, from made-up trials and summaries."""
import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # churn_rate imports loadgen_bench beside it

spec = importlib.util.spec_from_file_location("churn_rate",
                                              Path(__file__).with_name("churn_rate.py"))
churn_rate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(churn_rate)


def test_search_finds_the_edge_within_the_precision():
    best, tried = churn_rate.search(lambda r: r <= 7300, start_rate=1000, precision=0.05)
    assert 7300 * 0.95 <= best <= 7300
    assert all(ok == (rate <= 7300) for rate, ok in tried)


def test_search_below_the_first_rate():
    best, _ = churn_rate.search(lambda r: r <= 300, start_rate=1000, precision=0.1)
    assert 270 <= best <= 300


def test_nothing_sustained_is_zero():
    best, _ = churn_rate.search(lambda r: False, start_rate=1000, precision=0.1)
    assert best == 0


def test_a_trial_is_judged_on_lag_shed_and_failures():
    s = {"start_lag_ms": {"p99": 4.0}, "shed": 0, "failed": {"count": 0}}
    assert churn_rate.sustained(s, 10)
    assert not churn_rate.sustained({**s, "start_lag_ms": {"p99": 12.0}}, 10)
    assert not churn_rate.sustained({**s, "shed": 1}, 10)
    assert not churn_rate.sustained({**s, "failed": {"count": 2}}, 10)


def test_the_asked_rate_is_count_over_the_mean_life():
    args = [str(a) for a in churn_rate.churn_args(4000, 1000, 5)]
    life_min = float(args[args.index("--churn-life-min") + 1].removesuffix("ms"))
    life_max = float(args[args.index("--churn-life-max") + 1].removesuffix("ms"))
    assert abs(1000 / ((life_min + life_max) / 2 / 1000) - 4000) < 1


def test_a_rate_passes_on_a_majority_of_its_trials_and_stops_once_decided():
    runs = []

    def flaky(results):
        it = iter(results)

        def trial(rate):
            runs.append(rate)
            return next(it)
        return trial

    assert churn_rate.majority(flaky([False, True, True]), 3)(1000) is True
    assert churn_rate.majority(flaky([True, False, False]), 3)(1000) is False
    runs.clear()
    assert churn_rate.majority(flaky([True, True, False]), 3)(1000) is True
    assert len(runs) == 2, "the third trial cannot change a 2-0 verdict"
