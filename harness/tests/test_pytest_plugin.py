"""perfkit's pytest plugin: the judge fails, measures again, skips as compare's
rule says; PERFKIT_SKIP_PERF skips perf tests with the reason; sampled_sut
runs a real SUT in a user's test file of a few lines."""
import os
import subprocess
import sys
import textwrap

import pytest

from perfkit import runfile
from perfkit.pytest_plugin import Judge

from compare_support import HARNESS, make_run, perfkit, runs


@pytest.fixture
def judge(tmp_path):
    base = make_run(tmp_path, "base.json", [
        ("parse", "ns", "lower", runs(100.0), {}),
        ("rss", "bytes", "lower", runs(30e6, seed=2), {"target": 100e6}),
    ])
    assert perfkit("baseline", "update", base, "--dir", tmp_path / "b").returncode == 0
    (tmp_path / "rules.toml").write_text("")
    return Judge(tmp_path / "b", tmp_path / "rules.toml")


def measured(tmp_path, parse=100.0, rss=30e6, n=5, name="now.json"):
    return runfile.read_run(make_run(tmp_path, name, [
        ("parse", "ns", "lower", runs(parse, n=n, seed=10), {}),
        ("rss", "bytes", "lower", runs(rss, n=n, seed=12), {"target": 100e6}),
    ]))


def test_all_well_passes_and_hands_back_the_rows(judge, tmp_path):
    rows = judge.check(measured(tmp_path))
    assert {r.name: r.verdict for r in rows} == {"parse": "ok", "rss": "ok"}


def test_a_regression_fails_naming_the_metric(judge, tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"regressions: 1 \(parse\)"):
        judge.check(measured(tmp_path, parse=130.0))


def test_a_missed_target_fails_on_its_own(judge, tmp_path):
    with pytest.raises(pytest.fail.Exception, match=r"targets missed: 1 \(rss\)"):
        judge.check(measured(tmp_path, rss=120e6), "rss")


def test_undecided_measures_once_more_then_skips_with_the_reason(judge, tmp_path):
    calls = []

    def again():
        calls.append(1)
        return measured(tmp_path, n=1, name="again.json")
    with pytest.raises(pytest.skip.Exception, match="inconclusive after measuring again: parse"):
        judge.check(measured(tmp_path, n=1), "parse", remeasure=again)
    assert calls == [1]  # once, never until it passes


def test_measuring_again_can_settle_it(judge, tmp_path):
    # Two runs now: too few; two more from the second measurement: judged.
    rows = judge.check(measured(tmp_path, n=2), "parse",
                       remeasure=lambda: measured(tmp_path, n=2, name="again.json"))
    assert rows[0].verdict == "ok" and rows[0].change.runs_now == 4


def test_nothing_to_judge_by_is_a_skip_that_says_why(tmp_path):
    (tmp_path / "empty").mkdir()
    judge = Judge(tmp_path / "empty", tmp_path / "no-rules.toml")
    with pytest.raises(pytest.skip.Exception, match="targets met \\(1\\), but not compared: "
                                                    "no baseline for this machine"):
        judge.check(measured(tmp_path))


def pytest_file(tmp_path, body, env=None):
    """Runs a user's test file with the plugin loaded, as a project of theirs would."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p",
                           "perfkit.pytest_plugin", "-p", "no:cacheprovider", "test_user.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(HARNESS), **(env or {})})


def test_perfkit_skip_perf_skips_perf_tests_with_the_reason(tmp_path):
    done = pytest_file(tmp_path, """
        import pytest

        @pytest.mark.perf
        def test_slow():
            assert False

        def test_other():
            pass
    """, env={"PERFKIT_SKIP_PERF": "two cores busy with a build"})
    assert done.returncode == 0, done.stdout
    assert "1 passed, 1 skipped" in done.stdout
    assert "two cores busy with a build: the performance suite is skipped" in done.stdout


def test_a_sampled_sut_in_a_users_test(tmp_path):
    done = pytest_file(tmp_path, """
        import sys

        def test_small(sampled_sut):
            code = ("import sys, time; b = bytearray(20 << 20); open(sys.argv[1], 'w').close(); "
                    "time.sleep(60)")
            s = sampled_sut([sys.executable, "-c", code, "{tmp}/ready"],
                            ready={"file": "{tmp}/ready"}, seconds=0.5)
            assert 20e6 < s["measure.sut.peak_rss_bytes"] < 100e6
            assert s.run["attachments"][0]["kind"] == "series"
    """)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_a_missed_aim_is_an_expected_failure_naming_it(judge, tmp_path):
    (tmp_path / "rules.toml").write_text('[[rule]]\nmatch = "rss"\naim = 20e6\n')
    judge = Judge(judge.baseline_dir, tmp_path / "rules.toml")
    with pytest.raises(pytest.xfail.Exception, match=r"aims of ours missed: rss 30.\d MB "
                                                     r"\(aim <= 20.0 MB\)"):
        judge.check(measured(tmp_path))
    (tmp_path / "rules.toml").write_text('[[rule]]\nmatch = "rss"\naim = 50e6\n')
    judge = Judge(judge.baseline_dir, tmp_path / "rules.toml")
    assert judge.check(measured(tmp_path))[1].aim_missed is False
