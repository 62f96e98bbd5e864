"""perfkit.report.plots: the report's SVGs, from small synthetic inputs."""
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest

from perfkit.report import plots

PHASES = [{"name": "warmup", "start_s": 0.0, "end_s": 2.0},
          {"name": "steady", "start_s": 2.0, "end_s": 6.0},
          {"name": "burst", "start_s": 6.0, "end_s": 8.0}]


def texts(path):
    """{text: y} of every <text> in the SVG (svg.fonttype none keeps them text)."""
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return {el.text: float(el.get("y")) for el in root.iter() if el.tag.endswith("text") and el.text}


def npz(path, cpu_share=0.5, seconds=8.0, hz=100):
    t = np.arange(0, seconds, 1 / hz)
    np.savez_compressed(path, t=t, rss_bytes=(40e6 + 1e6 * t).astype(np.int64),
                        cpu_ns=(t * cpu_share * 1e9).astype(np.int64),
                        threads=np.full(len(t), 4))
    return path


def change(c, low, high):
    return SimpleNamespace(change=c, low=low, high=high)


def row(name, c, better="lower", verdict="ok", threshold=0.10):
    return SimpleNamespace(name=name, better=better, threshold=threshold, verdict=verdict,
                           change=c)


# --- cpu_percent --------------------------------------------------------------

def test_cpu_percent_is_the_share_of_one_core():
    t = np.arange(0, 10, 0.01)
    mid, percent = plots.cpu_percent(t, (t * 0.5e9).astype(np.int64))
    assert len(percent) >= 15  # windows of about 0.5 s, not one per sample
    assert np.allclose(percent, 50, atol=0.01)
    assert np.all(np.diff(mid) > 0) and mid[0] > 0 and mid[-1] < 10


def test_cpu_percent_follows_irregular_samples_and_a_change_of_rate():
    t = np.sort(np.random.default_rng(0).uniform(0, 10, 1000))
    cpu = np.where(t < 5, t * 1e9, 5e9 + (t - 5) * 2e9)  # one core, then two
    mid, percent = plots.cpu_percent(t, cpu)
    assert np.allclose(percent[mid < 4.5], 100, rtol=1e-6)
    assert np.allclose(percent[mid > 5.5], 200, rtol=1e-6)


def test_cpu_percent_of_fewer_than_two_samples_is_empty():
    assert [len(a) for a in plots.cpu_percent([1.0], [5])] == [0, 0]


# --- timeline -------------------------------------------------------------------

def test_timeline_draws_the_phases_and_the_title(tmp_path):
    series = [{"repetition": k, "path": npz(tmp_path / f"s{k}.npz"), "phases": PHASES}
              for k in (1, 2)]
    out = plots.timeline(series, "procmond, steady scenario", tmp_path / "out" / "t.svg")
    assert out == tmp_path / "out" / "t.svg"
    words = texts(out)
    for name in ("warmup", "steady", "burst", "procmond, steady scenario", "rep 1", "rep 2",
                 "RSS, MB", "CPU, % of one core"):
        assert name in words


def test_timeline_skips_a_missing_or_unreadable_file(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    series = [{"repetition": 1, "path": tmp_path / "gone.npz", "phases": PHASES},
              {"repetition": 2, "path": tmp_path / "bad.npz", "phases": []},
              {"repetition": 3, "path": npz(tmp_path / "s3.npz"), "phases": []}]
    words = texts(plots.timeline(series, "t", tmp_path / "t.svg"))
    assert "warmup" in words  # the phases of the first repetition, though its file is gone
    assert "rep 1" not in words and "rep 2" not in words  # one line left: no legend


def test_timeline_of_nothing_readable_is_none(tmp_path):
    series = [{"repetition": 1, "path": tmp_path / "gone.npz", "phases": PHASES}]
    assert plots.timeline(series, "t", tmp_path / "t.svg") is None
    assert plots.timeline([], "t", tmp_path / "t.svg") is None
    assert not (tmp_path / "t.svg").exists()


def test_timeline_is_the_same_bytes_twice(tmp_path):
    series = [{"repetition": None, "path": npz(tmp_path / "s.npz"), "phases": PHASES}]
    a = plots.timeline(series, "t", tmp_path / "a.svg").read_bytes()
    assert a == plots.timeline(series, "t", tmp_path / "b.svg").read_bytes()


# --- forest -----------------------------------------------------------------------

ROWS = [row("cpu_mean_percent", change(0.02, -0.01, 0.05)),
        row("peak_rss_bytes", change(0.25, 0.20, 0.30), verdict="regression"),
        # better higher: -30 % is the worst change drawn
        row("events_per_second", change(-0.30, -0.35, -0.25), better="higher",
            verdict="regression", threshold=0.05),
        row("p99_latency_ns", change(-0.15, -0.2, -0.1), verdict="improvement"),
        row("new_metric", None, verdict="new")]


def test_forest_draws_the_rows_with_a_change_worst_at_the_top(tmp_path):
    words = texts(plots.forest(ROWS, "against baseline abc123", tmp_path / "f.svg"))
    assert "against baseline abc123" in words and "change, % (right is worse)" in words
    assert "new_metric" not in words
    top_down = sorted(["events_per_second", "peak_rss_bytes", "cpu_mean_percent",
                       "p99_latency_ns"], key=words.get)  # SVG y grows downwards
    assert top_down == ["events_per_second", "peak_rss_bytes", "cpu_mean_percent",
                        "p99_latency_ns"]


def test_forest_shortens_long_names_from_the_left(tmp_path):
    name = "scenario/" + "x" * 60 + "/p95_rss_bytes"
    words = texts(plots.forest([row(name, change(0.1, 0.0, 0.2))], "f", tmp_path / "f.svg"))
    short = [w for w in words if w.endswith("/p95_rss_bytes")]
    assert short and short[0].startswith("...") and len(short[0]) == 48


def test_forest_of_more_than_60_rows_keeps_the_largest_changes(tmp_path):
    rows = [row(f"metric_{i:03d}", change(i / 1000, i / 1000 - 0.01, i / 1000 + 0.01))
            for i in range(-20, 60)]  # 80 rows; the 20 smallest |change| are 0 .. +-0.010
    words = texts(plots.forest(rows, "many", tmp_path / "f.svg"))
    assert "many (60 of 80 shown)" in words
    assert "metric_059" in words and "metric_-20" in words
    assert "metric_000" not in words and "metric_009" not in words


def test_forest_without_changes_is_none(tmp_path):
    assert plots.forest([row("a", None)], "f", tmp_path / "f.svg") is None
    assert plots.forest([], "f", tmp_path / "f.svg") is None


def test_forest_is_the_same_bytes_twice(tmp_path):
    a = plots.forest(ROWS, "f", tmp_path / "a.svg").read_bytes()
    assert a == plots.forest(ROWS, "f", tmp_path / "b.svg").read_bytes()


# --- trend --------------------------------------------------------------------------

def report(metric, medians, unit="ms", change_points=()):
    return {"metric": metric, "unit": unit, "better": "lower",
            "points": [{"revision": f"r{i}", "started": f"2024-01-{i + 1:02d}T00:00:00Z",
                        "median": m} for i, m in enumerate(medians)],
            "change_points": list(change_points)}


TREND = [report("steady/peak_rss_bytes", [40e6] * 5 + [48e6] * 5, unit="bytes",
                change_points=[{"index": 5, "revision": "r5", "before": 40e6, "after": 48e6,
                                "relative": 0.2, "worse": True}]),
         report("bench/p50_latency", [1.2, 1.3, 1.1, 1.2]),
         report("startup", [2.0], unit="s")]


def test_trend_draws_a_panel_per_metric_with_readable_units(tmp_path):
    words = texts(plots.trend(TREND, "history of procmond", tmp_path / "t.svg"))
    for w in ("history of procmond", "steady/peak_rss_bytes", "bench/p50_latency", "startup",
              "MB", "ms", "s"):
        assert w in words
    assert "48" in words  # bytes drawn as MB


def test_trend_draws_at_most_max_panels(tmp_path):
    reports = [report(f"metric_{i}", [1.0, 2.0]) for i in range(5)]
    words = texts(plots.trend(reports, "t", tmp_path / "t.svg", max_panels=4))
    assert "metric_3" in words and "metric_4" not in words


def test_trend_of_nothing_is_none_and_is_the_same_bytes_twice(tmp_path):
    assert plots.trend([], "t", tmp_path / "t.svg") is None
    a = plots.trend(TREND, "t", tmp_path / "a.svg").read_bytes()
    assert a == plots.trend(TREND, "t", tmp_path / "b.svg").read_bytes()


def test_plots_leave_matplotlib_settings_as_they_were(tmp_path):
    import matplotlib
    before = dict(matplotlib.rcParams)
    plots.trend(TREND, "t", tmp_path / "t.svg")
    assert dict(matplotlib.rcParams) == before


@pytest.mark.parametrize("name", ["a $x$ b", "a & <b>"])
def test_names_are_drawn_as_given(tmp_path, name):
    words = texts(plots.forest([row(name, change(0.1, 0.0, 0.2))], "f", tmp_path / "f.svg"))
    assert name in words
