"""`perfkit report` through the command line: the verdict in the first line for
every outcome, a table per area, A/B with --against, JUnit and JSON that say
the same, GitHub's step summary, the plots a run's files and history allow, and
bad input in one line."""
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from perfkit import runfile

from compare_support import make_run, perfkit, runs


@pytest.fixture
def baseline_dir(tmp_path):
    path = make_run(tmp_path, "base.json", [
        ("collector.parse", "ns", "lower", runs(100.0), {}),
        ("daemon.events_per_s", "1/s", "higher", runs(5000.0, seed=1), {"target": 1000}),
        ("web.idle.sut.peak_rss_bytes", "bytes", "lower", runs(30e6, seed=2), {"target": 100e6}),
    ])
    assert perfkit("baseline", "update", path, "--dir", tmp_path / "baselines").returncode == 0
    return tmp_path / "baselines"


def now_run(tmp_path, parse=100.0, rate=5000.0, rss=30e6, n=5, name="now.json", revision="r2"):
    return make_run(tmp_path, name, [
        ("collector.parse", "ns", "lower", runs(parse, n=n, seed=10), {}),
        ("daemon.events_per_s", "1/s", "higher", runs(rate, n=n, seed=11), {"target": 1000}),
        ("web.idle.sut.peak_rss_bytes", "bytes", "lower", runs(rss, n=n, seed=12),
         {"target": 100e6}),
    ], revision=revision)


def report(tmp_path, run, *args):
    out = tmp_path / "reports"
    done = perfkit("report", run, "-o", out, *args)
    assert done.returncode == 0, done.stderr
    text = (out / "latest.md").read_text()
    return done, text, out


def test_all_well_says_so_first_with_a_table_per_area(tmp_path, baseline_dir):
    done, text, out = report(tmp_path, now_run(tmp_path), "--baseline", baseline_dir)
    first = text.splitlines()[0]
    assert first.startswith("# All well: 3 metrics within their thresholds, 2 targets met")
    assert first[2:] in done.stdout  # the verdict is printed too
    for area in ("## collector", "## daemon", "## web"):
        assert area in text
    # A report per date and revision, and latest.md the same text.
    [dated] = [p for p in out.glob("*-r2.md")]
    assert dated.read_text() == text
    assert all(len(line) <= 100 for line in text.splitlines()), \
        max(text.splitlines(), key=len)


def test_a_regression_is_named_first_with_its_change_and_interval(tmp_path, baseline_dir):
    _, text, _ = report(tmp_path, now_run(tmp_path, parse=130.0, rate=3000.0),
                        "--baseline", baseline_dir)
    first = text.splitlines()[0]
    # -40 % events/s is worse than +30 % parse time: it is the worst, named first.
    assert re.match(r"# 2 regressions; worst: `daemon.events_per_s` -(39|40)\.\d %$", first)
    assert text.splitlines()[2].startswith("Worst regression: `daemon.events_per_s` -")
    assert "(threshold 10 %)" in text.splitlines()[2]
    row = next(line for line in text.splitlines() if line.startswith("| parse "))
    assert "**REGRESSION**" in row and re.search(r"\| +\+3[01] \[", row)


def test_a_missed_target_fails_even_without_a_baseline(tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    _, text, _ = report(tmp_path, now_run(tmp_path, rss=150e6), "--baseline", empty)
    assert text.startswith("# 1 target missed; worst: `web.idle.sut.peak_rss_bytes`\n\n"
                           "Worst miss: `web.idle.sut.peak_rss_bytes` 150 MB, target at most 100 MB")
    assert "**MISSED TARGET**" in text


def test_nothing_to_compare_still_reports_figures_and_says_why(tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    _, text, _ = report(tmp_path, now_run(tmp_path), "--baseline", empty)
    assert text.startswith("# No baseline for this machine: 3 figures reported, 2 targets met\n")
    assert "target met" in text and re.search(r"\| +[45]\.\d\d k/s \|", text)  # with units


def test_an_undecided_change_is_inconclusive_not_a_guess(tmp_path, baseline_dir):
    _, text, _ = report(tmp_path, now_run(tmp_path, n=2), "--baseline", baseline_dir)
    assert text.startswith("# Inconclusive: 3 metrics undecided")
    assert "too few runs" in text


def test_ab_compares_two_runs_side_by_side(tmp_path):
    a = now_run(tmp_path, name="a.json", revision="aaaa")
    b = now_run(tmp_path, parse=150.0, name="b.json", revision="bbbb")
    _, text, _ = report(tmp_path, b, "--against", a)
    assert text.startswith("# 1 regression; worst: `collector.parse` +50")
    prose = " ".join(text.split())
    assert f"A is `{a}`" in prose and "B is the run reported" in prose
    head = next(line for line in text.splitlines() if line.startswith("| metric"))
    assert re.search(r"\| +A \| +B \|", head)


def test_junit_fails_regressions_and_skips_the_undecided(tmp_path, baseline_dir):
    report(tmp_path, now_run(tmp_path, parse=130.0), "--baseline", baseline_dir,
           "--junit", tmp_path / "j.xml", "--json", tmp_path / "r.json")
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")}
    assert cases["collector.parse"].find("failure").get("type") == "regression"
    assert cases["daemon.events_per_s"].find("failure") is None
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["schema"] == "perfkit.report/1" and doc["verdict"]["kind"] == "fail"
    assert [t["area"] for t in doc["tables"]] == ["collector", "daemon", "web"]

    report(tmp_path, now_run(tmp_path, n=2), "--baseline", baseline_dir,
           "--junit", tmp_path / "j2.xml")
    suites = ET.parse(tmp_path / "j2.xml").getroot()
    assert sum(int(s.get("skipped")) for s in suites) == 3
    assert sum(int(s.get("failures")) for s in suites) == 0


def test_the_step_summary_gets_the_markdown_too(tmp_path, baseline_dir, monkeypatch):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    _, text, _ = report(tmp_path, now_run(tmp_path), "--baseline", baseline_dir)
    assert summary.read_text() == "earlier step\n" + text + "\n"


def test_a_runs_series_profiles_and_history_become_plots_and_links(tmp_path, baseline_dir):
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    t = np.arange(0, 4, 0.01)
    np.savez_compressed(runs_dir / "web.npz", t=t, rss_bytes=np.full(t.size, 30e6),
                        cpu_ns=(t * 0.2e9).astype(np.int64))
    (runs_dir / "flame.svg").write_text("<svg/>")
    history = tmp_path / "history.sqlite"
    for k, rev in enumerate(["r0", "r1"]):
        old = runfile.read_run(now_run(tmp_path, name=f"old{k}.json", revision=rev))
        old["started"] = f"2026-01-0{k + 1}T00:00:00+00:00"
        runfile.write_run(old, tmp_path / f"old{k}.json")
        assert perfkit("history", "add", tmp_path / f"old{k}.json", "--store",
                       history).returncode == 0
    run = runfile.read_run(now_run(tmp_path))
    run["attachments"] = [
        {"kind": "series", "name": "web", "path": "web.npz",
         "phases": [{"name": "idle", "start_s": 0.0, "end_s": 4.0}]},
        {"kind": "flamegraph", "name": "web", "path": "flame.svg", "title": "where web's time goes"}]
    runfile.write_run(run, runs_dir / "now.json")
    _, text, out = report(tmp_path, runs_dir / "now.json", "--baseline", baseline_dir,
                          "--history", history)
    links = [line for line in text.splitlines() if line.startswith("![")]
    assert [line.split("]")[0] for line in links] == [
        "![web: the system under test's RSS and CPU, phases shaded",
        "![Each change against the baseline, with its 95% interval",
        "![Headline metrics over the history, steps marked"]
    for line in links:  # each plot is where the markdown says
        assert (out / line.split("(")[1].rstrip(")")).exists()
    # The profile is copied beside the report: the run's directory may be remade.
    [link] = [line for line in text.splitlines() if line.startswith("- [where web's time goes](")]
    kept = out / link.split("(")[1].rstrip(")")
    assert kept.read_text() == "<svg/>" and kept.parent.name == "profiles"
    assert "## Idle" not in text and "## web · idle" in text  # a phase gets its table


@pytest.mark.parametrize("args, message", [
    (["missing.json"], "missing.json: no such file"),
    (["RUN", "--against", "missing.json"], "missing.json: no such file"),
    (["RUN", "--confidence", "2"], "--confidence 2.0 is not between 0.5 and 1"),
])
def test_bad_input_exits_2_in_one_line(tmp_path, args, message):
    run = now_run(tmp_path)
    done = perfkit("report", *[run if a == "RUN" else tmp_path / a if a.endswith(".json") else a
                               for a in args], "-o", tmp_path / "out")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_areas_split_a_scenarios_phases_and_nothing_else():
    from perfkit.report.areas import area_of, scenarios_of
    run = {"attachments": [{"kind": "series", "name": "pd", "path": "x.npz",
                            "phases": [{"name": "churn", "start_s": 0, "end_s": 1}]}]}
    sc = scenarios_of(run)
    assert area_of("pd.churn.sut.cpu_mean_percent", sc) == ("pd · churn", "sut.cpu_mean_percent")
    assert area_of("pd.run.sut.hwm_bytes", sc) == ("pd · run", "sut.hwm_bytes")
    # loadgen's own churn figures are not the scenario's phase.
    assert area_of("loadgen.churn.sleep.clone.shed", sc) == ("loadgen", "churn.sleep.clone.shed")
    # A run of one scenario names its metrics from the phase on.
    one = {"scenario": "web", "phases": [{"name": "idle", "start_s": 0, "end_s": 1}]}
    assert area_of("idle.sut.peak_rss_bytes", scenarios_of(one), "web") == \
        ("web · idle", "sut.peak_rss_bytes")


def test_our_aims_are_reported_and_fail_nothing(tmp_path, baseline_dir):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nmatch = "daemon.events_per_s"\ntarget = 1000\naim = 200000\n')
    done, text, _ = report(tmp_path, now_run(tmp_path), "--baseline", baseline_dir,
                           "--rules", rules, "--junit", tmp_path / "j.xml")
    assert text.startswith("# All well: ")
    assert "Aims of ours missed (1): `daemon.events_per_s` 5." in " ".join(text.split())
    row = next(line for line in text.splitlines() if line.startswith("| events_per_s"))
    assert row.rstrip(" |").endswith("ok, aim missed")
    suites = ET.parse(tmp_path / "j.xml").getroot()
    assert sum(int(s.get("failures")) for s in suites) == 0
    done = perfkit("compare", now_run(tmp_path), "--baseline", baseline_dir, "--rules", rules)
    assert done.returncode == 0 and "aim missed (200 k/s)" in done.stdout
