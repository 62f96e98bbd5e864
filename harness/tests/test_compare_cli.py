"""`perfkit compare` and `perfkit baseline update` through the command line:
every exit status, every kind of bad input in one line, a baseline of another
machine, --confirm, and end to end on a real benchmark slowed by a known amount."""
import json
import subprocess

import pytest

from perfkit import runfile
from perfkit.importers import from_google_benchmark
from perfkit.merge import merge_runs

from compare_support import make_run, perfkit, runs


@pytest.fixture
def baseline_dir(tmp_path):
    """A baseline of this machine: a parse time, a rate, an RSS with a target."""
    path = make_run(tmp_path, "base.json", [
        ("parse", "ns", "lower", runs(100.0), {}),
        ("rate", "1/s", "higher", runs(5000.0, seed=1), {}),
        ("rss", "bytes", "lower", runs(30e6, seed=2), {"target": 100e6}),
    ])
    done = perfkit("baseline", "update", path, "--dir", tmp_path / "baselines")
    assert done.returncode == 0, done.stderr
    return tmp_path / "baselines"


def now_run(tmp_path, parse=100.0, rate=5000.0, rss=30e6, n=5, seed=10, name="now.json"):
    return make_run(tmp_path, name, [
        ("parse", "ns", "lower", runs(parse, n=n, seed=seed), {}),
        ("rate", "1/s", "higher", runs(rate, n=n, seed=seed + 1), {}),
        ("rss", "bytes", "lower", runs(rss, n=n, seed=seed + 2), {"target": 100e6}),
    ])


def verdicts(done):
    """{metric: verdict} from the table."""
    out = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in ("parse", "rate", "rss", "ratio"):
            out[parts[0]] = line
    return out


def test_all_well_exits_0(tmp_path, baseline_dir):
    done = perfkit("compare", now_run(tmp_path), "--baseline", baseline_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("OK: 3 metrics within")


def test_a_regression_exits_1_and_is_named_first_the_table(tmp_path, baseline_dir):
    done = perfkit("compare", now_run(tmp_path, parse=125.0, rate=3900.0), "--baseline",
                   baseline_dir, "--json", tmp_path / "v.json")
    assert done.returncode == 1, done.stdout
    assert "REGRESSION" in verdicts(done)["parse"] and "REGRESSION" in verdicts(done)["rate"]
    assert done.stdout.index("metric") < done.stdout.index("FAIL: regressions: 2 (parse, rate)")
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["status"] == 1
    by = {m["name"]: m for m in doc["metrics"]}
    assert by["parse"]["verdict"] == "regression" and by["parse"]["change"]["low"] > 0.10
    assert by["rss"]["verdict"] == "ok"


def test_an_improvement_is_reported_as_such(tmp_path, baseline_dir):
    done = perfkit("compare", now_run(tmp_path, parse=70.0), "--baseline", baseline_dir)
    assert done.returncode == 0, done.stdout
    assert "improvement" in verdicts(done)["parse"]
    assert "1 improved" in done.stdout


def test_a_missed_target_fails_on_its_own_with_or_without_a_baseline(tmp_path, baseline_dir):
    # 105 MB against a 30 MB baseline is a regression too; against no baseline
    # only the target can judge it.
    done = perfkit("compare", now_run(tmp_path, rss=105e6), "--baseline", baseline_dir)
    assert done.returncode == 1 and "TARGET MISSED (100 MB)" in verdicts(done)["rss"]
    empty = tmp_path / "empty"
    empty.mkdir()
    done = perfkit("compare", now_run(tmp_path, rss=105e6), "--baseline", empty)
    assert done.returncode == 1, done.stdout
    assert "targets missed: 1 (rss)" in done.stdout


def test_too_few_runs_is_inconclusive_and_says_how_many_are_needed(tmp_path, baseline_dir):
    done = perfkit("compare", now_run(tmp_path, n=2), "--baseline", baseline_dir)
    assert done.returncode == 3, done.stdout
    assert "too few runs: parse: 5 runs in the baseline, 2 now; needs 3 each" in done.stdout


def test_noise_wider_than_the_threshold_is_inconclusive_naming_the_runs_that_would_decide(
        tmp_path, baseline_dir):
    now = make_run(tmp_path, "noisy.json", [
        ("parse", "ns", "lower", [[80.0], [150.0], [100.0], [125.0]], {})])
    done = perfkit("compare", now, "--baseline", baseline_dir)
    assert done.returncode == 3, done.stdout
    assert "inconclusive: parse: the interval straddles 10 %" in done.stdout
    assert "process runs a side would decide it" in done.stdout or "sits on" in done.stdout
    assert "missing" in verdicts(done)["rate"]  # in the baseline, not in the run


def test_no_baseline_for_this_machine_exits_4(tmp_path):
    now = make_run(tmp_path, "now.json", [("parse", "ns", "lower", runs(100.0), {})])
    (tmp_path / "none").mkdir()
    done = perfkit("compare", now, "--baseline", tmp_path / "none")
    assert done.returncode == 4, done.stdout
    assert "no baseline for this machine" in done.stdout
    # The default, baselines/ of the repository holding the current directory,
    # absent: the same.
    subprocess.run(["git", "init", "-q", tmp_path / "repo"], check=True)
    done = perfkit("compare", now, cwd=tmp_path / "repo")
    assert done.returncode == 4, done.stdout + done.stderr


def test_another_machines_baseline_judges_portable_metrics_only(tmp_path):
    other = {"cpu": "Some Other CPU", "fingerprint": "0123456789abcdef"}
    base = make_run(tmp_path, "base.json", [
        ("parse", "ns", "lower", runs(100.0), {}),
        ("ratio", "ratio", "lower", runs(1.05), {"portable": True})], machine=other)
    now = make_run(tmp_path, "now.json", [
        ("parse", "ns", "lower", runs(300.0), {}),
        ("ratio", "ratio", "lower", runs(1.06, seed=3), {"portable": True})])
    done = perfkit("compare", now, "--baseline", base)
    assert done.returncode == 0, done.stdout
    assert "the baseline is of another machine (cpu: Some Other CPU ->" in done.stdout
    assert "skipped" in verdicts(done)["parse"] and " ok" in verdicts(done)["ratio"]
    assert "skipped: 1 absolute metrics" in done.stdout
    # Only absolute metrics: nothing usable.
    base = make_run(tmp_path, "base2.json", [("parse", "ns", "lower", runs(100.0), {})],
                    machine=other)
    assert perfkit("compare", now, "--baseline", base).returncode == 4


def test_rules_set_thresholds_and_the_table_marks_them(tmp_path, baseline_dir):
    (baseline_dir / "metrics.toml").write_text(
        '[[rule]]\nmatch = "par*"\nthreshold = "40%"\nwhy = "noisy here"\n')
    done = perfkit("compare", now_run(tmp_path, parse=125.0), "--baseline", baseline_dir)
    assert done.returncode == 0, done.stdout
    assert "40 %*" in verdicts(done)["parse"]
    assert "* threshold set for this metric by the rules file" in done.stdout
    # --threshold sets what no rule names; the rule still wins for its own.
    done = perfkit("compare", now_run(tmp_path, parse=125.0, rate=4600.0), "--baseline",
                   baseline_dir, "--threshold", "5%")
    assert done.returncode == 1 and "REGRESSION" in verdicts(done)["rate"], done.stdout


def bad(*args):
    done = perfkit("compare", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("perfkit: compare: "), done.stderr
    return lines[0]


def test_every_kind_of_bad_input_exits_2_in_one_line(tmp_path, baseline_dir):
    now = now_run(tmp_path)
    assert "no such file" in bad(tmp_path / "absent.json", "--baseline", baseline_dir)
    (tmp_path / "text.json").write_text("not json")
    assert "not JSON" in bad(tmp_path / "text.json", "--baseline", baseline_dir)
    (tmp_path / "other.json").write_text('{"benchmarks": []}')
    assert "not a perfkit.run/1 document" in bad(tmp_path / "other.json")
    future = json.loads(now.read_text()) | {"schema": "perfkit.run/2"}
    (tmp_path / "future.json").write_text(json.dumps(future))
    assert "perfkit.run/1" in bad(tmp_path / "future.json", "--baseline", baseline_dir)
    assert "threshold 'ten'" in bad(now, "--baseline", baseline_dir, "--threshold", "ten")
    (tmp_path / "rules.toml").write_text("[[rule]\n")
    assert "not TOML" in bad(now, "--baseline", baseline_dir, "--rules", tmp_path / "rules.toml")
    assert "no baseline file or directory" in bad(now, "--baseline", tmp_path / "nowhere")
    (baseline_dir / "junk.json").write_text("[]")
    other = make_run(tmp_path, "o.json", [("parse", "ns", "lower", runs(1.0), {})],
                     machine={"fingerprint": "fedcba9876543210"})
    assert "not a perfkit.run/1 document" in bad(other, "--baseline", baseline_dir)


CONFIRM_RUN = "cp {src} {{out}}"


def test_confirm_re_measures_and_judges_again_on_every_run(tmp_path, baseline_dir):
    slow = now_run(tmp_path, parse=125.0, name="slow.json")
    fast = now_run(tmp_path, parse=100.0, seed=20, name="fast.json")
    done = perfkit("compare", slow, "--baseline", baseline_dir, "--json", tmp_path / "v.json",
                   "--confirm", f"cp {fast} {{out}}; echo {{metrics}} > {tmp_path}/asked")
    assert "first verdict: FAIL: regressions: 1 (parse)" in done.stderr
    assert (tmp_path / "asked").read_text().split() == ["parse"]
    doc = json.loads((tmp_path / "v.json").read_text())
    parse = {m["name"]: m for m in doc["metrics"]}["parse"]
    assert parse["change"]["runs_now"] == 10  # five slow runs and five fast ones
    assert done.returncode != 1 and parse["verdict"] != "regression", done.stdout
    # A confirmation that fails leaves the first verdict standing.
    done = perfkit("compare", slow, "--baseline", baseline_dir, "--confirm", "exit 7")
    assert done.returncode == 1
    assert "confirm: the command failed with status 7; judged without it" in done.stderr


def test_baseline_update_says_what_changed_and_refuses_what_it_should(tmp_path):
    d = tmp_path / "baselines"
    a = make_run(tmp_path, "a.json", [("parse", "ns", "lower", runs(100.0), {}),
                                      ("rss", "bytes", "lower", runs(30e6), {"target": 100e6})])
    done = perfkit("baseline", "update", a, "--dir", d)
    assert done.returncode == 0, done.stderr
    assert "+ parse: 99.2 ns (5 runs)" in done.stdout
    fingerprint = runfile.read_run(a)["machine"]["fingerprint"]
    assert (d / f"{fingerprint}.json").exists()
    # A run that misses a target, or lacks a metric of the baseline, is refused.
    b = make_run(tmp_path, "b.json", [("parse", "ns", "lower", runs(110.0), {}),
                                      ("rss", "bytes", "lower", runs(120e6), {"target": 100e6})])
    done = perfkit("baseline", "update", b, "--dir", d)
    assert done.returncode == 1 and "rss misses its target" in done.stderr
    c = make_run(tmp_path, "c.json", [("parse", "ns", "lower", runs(110.0), {})])
    done = perfkit("baseline", "update", c, "--dir", d)
    assert done.returncode == 1 and "rss is in the baseline but not in the run" in done.stderr
    done = perfkit("baseline", "update", c, "--dir", d, "--force")
    assert done.returncode == 0
    assert "~ parse: 99.2 ns -> 109 ns (+10.0 %, 5 runs)" in done.stdout
    assert "- rss" in done.stdout
    # Two run files of one build: their process runs add up.
    done = perfkit("baseline", "update", c, c, "--dir", d)
    assert "10 runs" in done.stdout
    assert perfkit("baseline", "update", tmp_path / "absent.json", "--dir", d).returncode == 2


# End to end: a real benchmark, slowed by a known amount.

def knob_runs(bin_dir, tmp_path, slowdowns, invocations=8):
    """For each slowdown, `invocations` processes of knob_bench (3 repetitions
    each) as one run file. Eight a side: with four, a 3 % slowdown's interval
    reached past 10 % (inconclusive) in 1 of 5 runs of this test. The slowdowns take turns, so that the machine's
    drift falls on each alike; the CPU time is read, which neighbours on a
    shared machine do not lengthen as they do the wall time."""
    runs_ = {s: [] for s in slowdowns}
    for i in range(invocations):
        for s in slowdowns:
            out = tmp_path / f"knob-{s}-{i}.json"
            subprocess.run([bin_dir / "knob_bench", f"--slowdown={s}",
                            "--benchmark_repetitions=3", "--benchmark_min_time=0.05",
                            f"--benchmark_out={out}", "--benchmark_out_format=json"],
                           check=True, capture_output=True, timeout=60)
            run = runfile.new_run(build_dir=tmp_path, revision=f"knob-{s}")
            runs_[s].append(runfile.add_metrics(run, from_google_benchmark(out, "knob",
                                                                           clock="cpu")))
    paths = []
    for s, rs in runs_.items():
        paths.append(tmp_path / f"knob-{s}.run.json")
        runfile.write_run(merge_runs(rs), paths[-1])
    return paths


@pytest.mark.spawns
def test_a_real_benchmark_slowed_25_percent_fails_and_3_percent_passes(bin_dir, tmp_path):
    base, slower, slightly = knob_runs(bin_dir, tmp_path, [0, 0.25, 0.03])
    d = tmp_path / "baselines"
    assert perfkit("baseline", "update", base, "--dir", d).returncode == 0
    done = perfkit("compare", slower, "--baseline", d)
    assert done.returncode == 1, done.stdout
    assert "FAIL: regressions: 1 (knob.BM_Knob)" in done.stdout
    done = perfkit("compare", slightly, "--baseline", d)
    assert done.returncode == 0, done.stdout
