"""harness/bench/aa_false_alarms.py's pure parts on small synthetic inputs:
the A/A split, pytest-benchmark's bare rule, the CV figures, the tally and the
table. Nothing here runs a benchmark."""
import importlib.util
import json
import statistics
from pathlib import Path

import pytest

from perfkit import verdict

_PATH = Path(__file__).resolve().parent.parent / "bench" / "aa_false_alarms.py"
_spec = importlib.util.spec_from_file_location("aa_false_alarms", _PATH)
aa = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aa)


def test_each_comparison_draws_distinct_runs_and_splits_them_3_vs_3():
    pairs = aa.split(24, 20, 3, seed=[1, 2])
    assert len(pairs) == 20
    for base, now in pairs:
        assert len(base) == len(now) == 3
        assert len(set(base + now)) == 6  # never a run against itself
        assert all(0 <= i < 24 for i in base + now)
    assert len({tuple(b + n) for b, n in pairs}) > 1  # not one draw repeated


def test_the_split_is_seeded():
    assert aa.split(10, 5, 3, seed=7) == aa.split(10, 5, 3, seed=7)
    assert aa.split(10, 5, 3, seed=7) != aa.split(10, 5, 3, seed=8)


def test_a_pool_of_6_gives_every_comparison_all_six_and_fewer_is_refused():
    for base, now in aa.split(6, 4, 3, seed=0):
        assert sorted(base + now) == list(range(6))
    with pytest.raises(ValueError):
        aa.split(5, 1, 3, seed=0)


def test_the_bare_rule_fails_on_a_mean_more_than_10_percent_worse():
    # Lower is better (times), as in pytest-benchmark (now / base * 100 - 100 > 10).
    assert not aa.bare_rule_fails([100, 100], [109, 109], "lower")
    assert aa.bare_rule_fails([100, 100], [105, 117], "lower")    # mean 111
    assert not aa.bare_rule_fails([100], [50], "lower")            # faster never fails
    # The mean, not the median: one slow repetition is enough.
    assert aa.bare_rule_fails([100, 100, 100], [100, 100, 140], "lower")
    # Higher is better (rates): a fall of more than 10 % fails.
    assert aa.bare_rule_fails([1000], [880], "higher")
    assert not aa.bare_rule_fails([1000], [950], "higher")
    assert not aa.bare_rule_fails([1000], [2000], "higher")
    # A zero baseline: pytest-benchmark's infinite change.
    assert aa.bare_rule_fails([0.0], [1.0], "lower")
    assert not aa.bare_rule_fails([0.0], [0.0], "lower")


def test_within_run_cv_is_the_median_of_each_runs_cv():
    runs = [[9, 10, 11], [18, 20, 22], [100, 100, 100]]
    # CVs 0.1, 0.1 and 0: median 0.1, whatever the runs' levels.
    assert aa.within_run_cv(runs) == pytest.approx(0.1)
    assert aa.within_run_cv([[5], [7]]) is None  # one sample a run: none to take


def test_between_run_cv_is_the_cv_of_the_run_medians():
    runs = [[9, 10, 50], [19, 20, 21], [29, 30, 31]]  # medians 10, 20, 30
    assert aa.between_run_cv(runs) == pytest.approx(statistics.stdev([10, 20, 30]) / 20)
    assert aa.between_run_cv([[1, 2, 3]]) is None
    # Runs that agree with each other: no spread between them, however noisy inside.
    assert aa.between_run_cv([[1, 10, 19], [5, 10, 15]]) == 0


def test_pooled_makes_every_repetition_a_run():
    assert aa.pooled([[1, 2], [3]]) == [[1], [2], [3]]


def test_runs_that_differ_only_by_their_level_fool_the_pooled_bootstrap_not_ours():
    # Three runs a side, tight inside (0.1 %), their levels 20 % apart between
    # runs: the baseline drew the low levels, now the high ones. Taken as 15
    # independent samples a side the change looks certain; as 3 runs it is not.
    def run(level):
        return [level * (1 + d) for d in (-0.001, 0.0, 0.001, -0.0005, 0.0005)]
    base = [run(100), run(104), run(108)]
    now = [run(116), run(120), run(124)]
    j = aa.judge_three_ways("m", base, now, "lower", 0.10, seed=0)
    assert j["pooled"] == verdict.REGRESSION
    assert j["ours"] == verdict.INCONCLUSIVE
    assert j["bare_fails"]  # 116 against 100


def test_tally_and_table_count_every_judgement():
    js = [{"ours": verdict.REGRESSION, "pooled": verdict.REGRESSION, "bare_fails": True},
          {"ours": verdict.INCONCLUSIVE, "pooled": verdict.IMPROVEMENT, "bare_fails": False},
          {"ours": verdict.OK, "pooled": verdict.OK, "bare_fails": True}]
    t = aa.tally(js)
    assert t == {"judgements": 3, "ours_regression": 1, "ours_inconclusive": 1,
                 "ours_improvement": 0, "bare_fails": 2, "pooled_regression": 1,
                 "pooled_improvement": 1}
    results = {"b": {"pool": 8, "repetitions": 5, "failed": 0, "metrics": {
        "b.m": {"within_run_cv": 0.01, "between_run_cv": 0.1, "not_judged": 0, **t}}}}
    text, grand = aa.table(results, 3)
    assert grand == t
    assert "1 metrics x 3 = 3 judgements" in text
    assert "ours 1 (33.3 %), bare 10 % rule 2 (66.7 %), pooled bootstrap 1 (33.3 %)" in text


def test_analyse_on_a_synthetic_pool_judges_every_metric_of_every_comparison():
    # Eight runs of one metric, 3 repetitions each, all alike: nothing to call.
    pool = [{"m": {"name": "m", "unit": "ns", "better": "lower",
                   "samples": [100.0 + i, 101.0 + i, 99.0 + i], "portable": False}}
            for i in range(8)]
    a = aa.analyse("b", pool, comparisons=4, seed=1)
    m = a["metrics"]["m"]
    assert len(a["pairs"]) == 4 and m["judgements"] == 4 and m["not_judged"] == 0
    assert m["ours_regression"] == 0 and m["pooled_regression"] == 0
    assert m["bare_fails"] == 0


def test_rejudge_judges_saved_samples_again_without_measuring(tmp_path, capsys):
    samples = [{"b.m": [100.0 + i, 100.5 + i]} for i in range(6)]
    doc = {"wall_seconds": 60.0, "load_before": [1.0, 1.0, 1.0], "load_after": [2.0, 2.0, 2.0],
           "load_per_round": [1.5] * 6, "benchmarks": {"b": {
               "repetitions": 2, "failures": [], "argv": ["b"], "invocation_seconds": [1.0] * 6,
               "samples": samples, "kinds": {"b.m": {"unit": "ns", "better": "lower"}}}}}
    saved = tmp_path / "aa.json"
    saved.write_text(json.dumps(doc))
    out = tmp_path / "again.json"
    assert aa.main(["--rejudge", str(saved), "--comparisons", "5", "--out", str(out)]) == 0
    assert "1 metrics x 5 = 5 judgements" in capsys.readouterr().out
    again = json.loads(out.read_text())
    assert again["benchmarks"]["b"]["samples"] == samples
    assert again["benchmarks"]["b"]["metrics"]["b.m"]["judgements"] == 5
