"""leakcheck's logic without a daemon: the growth rule (perfkit/profiles/
growth.py) on made-up series, the heaptrack reader (growth_heap.py) on a real
recording of programs/grows.c, and the verdict written out (growth_report.py,
`perfkit profile growth judge`) from a made-up rounds.json."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from perfkit import runfile
from perfkit.importers.generic import from_metrics_json
from perfkit.profiles import growth, growth_heap, growth_report

DATA = Path(__file__).resolve().parent / "data"
HARNESS = Path(__file__).resolve().parents[2] / "harness"
# heaptrack -o heaptrack.grows ./grows 4096 100, stopped by SIGTERM after
# 10.5 s: every 100 ms it keeps 4096 bytes more (keep_more, grows.c:24, into
# an array it realloc'd once to 8 KiB at grows.c:21), and frees it all on the
# way out; ld.so's 72,704 bytes are there from the start.
GROWS = DATA / "heaptrack.grows.zst"
MB = 1_000_000
TOL = growth.parse_tolerance("64K")


# -- the tolerance ----------------------------------------------------------

@pytest.mark.parametrize("text, bytes_", [("64K", 65536), ("64KiB", 65536), ("64KB", 65536),
                                          ("1M", 1 << 20), ("1.5M", 1.5 * (1 << 20)),
                                          ("4096", 4096), ("100B", 100), ("1G", 1 << 30)])
def test_a_tolerance_in_bytes_is_per_round_in_units_of_1024(text, bytes_):
    t = growth.parse_tolerance(text)
    assert t.per_round(123 * MB) == bytes_
    assert text in str(t)


def test_a_tolerance_in_percent_is_of_the_level():
    t = growth.parse_tolerance("1%")
    assert t.per_round(10 * MB) == pytest.approx(100_000)
    assert "1 % of the level" in str(t)


@pytest.mark.parametrize("text", ["", "abc", "-1K", "5%%", "1T", "K", "1 K B"])
def test_a_bad_tolerance_says_what_is_accepted(text):
    with pytest.raises(ValueError, match="64K, 1M"):
        growth.parse_tolerance(text)


# -- the rule ---------------------------------------------------------------

def level(n=10, at=10 * MB):
    return [float(at)] * n


def test_flat_passes():
    v = growth.judge("rss", level(), 2, TOL)
    assert not v.grows
    assert v.slope == 0 and v.grown_steps == 0 and len(v.steps) == 7
    assert v.reason.startswith("flat")


@pytest.mark.parametrize("values", [
    # A cache that fills once, halfway: one step of seven grew.
    level(6) + level(4, 11 * MB),
    # procmond under churn in CI, four rounds judged: its event buffer grew
    # once (+168 KB), and RSS moved by one page on another round. Two steps
    # of three were positive, and this level had passed for a trend.
    [9_770_000] * 3 + [9_774_100, 9_942_000, 9_942_000],
], ids=["one jump", "one jump and a stray page"])
def test_a_level_that_moved_is_not_a_trend(values):
    v = growth.judge("rss", values, 2, TOL)
    assert v.slope > TOL.per_round(0)
    assert v.grown_steps == 1
    assert not v.grows
    assert "steps grew by over 32.8 KB (a level that moved, not a trend)" in v.reason


def test_a_steady_slope_fails_with_its_size():
    values = [10 * MB + 300_000 * i for i in range(10)]
    v = growth.judge("rss", values, 2, TOL)
    assert v.grows
    assert v.slope == pytest.approx(300_000)
    assert v.grown_steps == 7
    assert v.reason.startswith("grows: slope +300 KB a round")


def test_a_slope_under_the_tolerance_passes():
    values = [10 * MB + 30_000 * i for i in range(10)]
    v = growth.judge("rss", values, 2, TOL)
    assert v.grown_steps == 0 and v.slope == pytest.approx(30_000)
    assert not v.grows


def test_a_slope_at_the_tolerance_grows_by_pages_and_fails():
    # 80 KB a round, as pages: every step is over half the tolerance.
    values = [10 * MB + 4096 * round(80_000 * i / 4096) for i in range(6)]
    v = growth.judge("rss", values, 2, TOL)
    assert v.grown_steps == 3 and v.grows


def test_growth_in_the_warmup_alone_is_left_out():
    values = [5 * MB, 8 * MB] + level(8)
    v = growth.judge("rss", values, 2, TOL)
    assert not v.grows
    assert v.judged == level(8) and v.grown_steps == 0
    assert growth.judge("rss", values, 0, TOL).grown_steps == 2


def test_shrinking_passes():
    assert not growth.judge("rss", [10 * MB - 200_000 * i for i in range(10)], 2, TOL).grows


def test_noisy_flat_passes():
    # Noise of 50 KB (sd) around a level, 200 made-up runs: the slope of 8
    # rounds stays far under 64 KiB.
    rng = np.random.default_rng(1)
    failed = sum(growth.judge("rss", 10 * MB + rng.normal(0, 50_000, 10), 2, TOL).grows
                 for _ in range(200))
    assert failed <= 2


def test_a_noisy_slope_fails():
    # 200 KB a round under noise of 100 KB (sd): most steps grow, the slope
    # is near 200 KB.
    rng = np.random.default_rng(2)
    verdicts = [growth.judge("rss", 10 * MB + 200_000 * np.arange(10) + rng.normal(0, 100_000, 10),
                             2, TOL) for _ in range(200)]
    assert sum(v.grows for v in verdicts) >= 190
    assert np.median([v.slope for v in verdicts]) == pytest.approx(200_000, rel=0.1)


def test_a_percent_tolerance_scales_with_the_level():
    one = growth.parse_tolerance("1%")
    assert not growth.judge("rss", [10 * MB + 50_000 * i for i in range(10)], 2, one).grows
    assert growth.judge("rss", [10 * MB + 150_000 * i for i in range(10)], 2, one).grows


def test_too_few_rounds_after_the_warmup_are_refused():
    with pytest.raises(ValueError, match="at least 3"):
        growth.judge("rss", level(4), 2, TOL)
    assert growth.judge("rss", level(5), 2, TOL).steps == [0.0, 0.0]


# -- heaptrack's data -------------------------------------------------------

def test_heap_in_use_at_marks_is_exact():
    t = growth_heap.read(GROWS, [0, 500, 1000, 2000, 1e9])
    base = 72_704 + 8_192 + 4_096  # ld.so, the array, the first keep
    assert t.heap_bytes[:4] == [base, base + 4 * 4096, base + 9 * 4096, base + 19 * 4096]
    assert t.heap_bytes[4] == 0  # past the end: everything freed on SIGTERM
    assert t.last_ms == growth_heap.last_timestamp_ms(GROWS) == 10_467
    assert t.command == "/tmp/grows 4096 100"


def test_the_site_that_grew_is_named_with_its_caller():
    t = growth_heap.read(GROWS, [1000 * k for k in range(1, 9)])
    sites = growth_report.site_growth(t, 2)
    slope, first, last, site, caller = sites[0]
    assert (site.function, site.file.rsplit("/", 1)[-1], site.line) == ("keep_more", "grows.c", 24)
    assert caller.function == "main"
    assert slope == pytest.approx(10 * 4096, rel=0.05)  # 10 ticks a second
    assert last - first == pytest.approx(5 * 10 * 4096, rel=0.05)
    assert len(sites) == 1  # the array and ld.so's block stayed as they were


def test_marks_out_of_order_are_refused():
    with pytest.raises(ValueError, match="time order"):
        growth_heap.read(GROWS, [2000, 1000])


def test_what_is_not_heaptrack_data_is_refused(tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("hello\n")
    with pytest.raises(growth_heap.HeaptrackFormatError, match="not a heaptrack data file"):
        growth_heap.read(plain, [0])
    old = tmp_path / "old.txt"
    old.write_text("v 10000 2\n")
    with pytest.raises(growth_heap.HeaptrackFormatError, match="format 2"):
        growth_heap.read(old, [0])
    cut = tmp_path / "cut.zst"
    cut.write_bytes(GROWS.read_bytes()[:1000])
    with pytest.raises(growth_heap.HeaptrackFormatError, match="zstd -dc failed"):
        growth_heap.read(cut, [0])
    bad = tmp_path / "bad.txt"
    bad.write_text("v 10400 3\na 10\n")
    with pytest.raises(growth_heap.HeaptrackFormatError, match="line 2"):
        growth_heap.read(bad, [0])


# -- the verdict written ----------------------------------------------------

@pytest.mark.parametrize("name, short", [
    ("procmond::ProcessTable::emit(std::vector<procmond::Event, std::allocator<procmond::Event> "
     ">&, procmond::EventKind)", "procmond::ProcessTable::emit(...)"),
    ("foo::operator()(int) const", "foo::operator()(...) const"),
    ("std::ostream& std::operator<< <std::char_traits<char> >(std::ostream&, char const*)",
     "std::ostream& std::operator<< <>(...)"),
    ("main", "main")])
def test_site_names_are_shortened(name, short):
    assert growth_report.short_function(name) == short


def rounds_json(directory, rss, warmup=2, loadgen_status=()):
    record = {"pid": 4242, "command": ["mydaemon", "--fast"], "daemon_started_wall": 1000.0,
              "round_seconds": 5.0, "settle_seconds": 1.0, "warmup_rounds": warmup,
              "load": ["/x/loadgen", "run", "--quiet", "--count", "300"], "stopped_early": None,
              "daemon_exited": False,
              "rounds": [{"round": i + 1, "mark_s": 6.0 * (i + 1), "mark_wall": 1006.0 + 6 * i,
                          "rss_bytes": v, "loadgen_status": (i + 1 in loadgen_status) * 3}
                         for i, v in enumerate(rss)]}
    (directory / "rounds.json").write_text(json.dumps(record))


def judge(directory, *extra):
    return subprocess.run([sys.executable, "-m", "perfkit", "profile", "growth", "judge",
                           str(directory), *extra], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(HARNESS)})


def test_judge_fails_a_growing_rss_and_writes_its_files(tmp_path):
    rounds_json(tmp_path, [10 * MB + 500_000 * i for i in range(10)])
    r = judge(tmp_path, "--prefix", "daemon")
    assert r.returncode == 1, r.stderr
    summary = (tmp_path / "summary.md").read_text()
    assert r.stdout == summary
    assert summary.startswith("# leakcheck: FAIL, RSS grows from round to round")
    assert "| 10 |  | 14.5 MB | +500 KB |" in summary
    assert "heap in use**: not measured" in summary
    metrics = from_metrics_json((tmp_path / "metrics.json").read_text())
    assert [m["name"] for m in metrics] == ["daemon.growth.rss_bytes_per_round"]
    assert metrics[0]["samples"] == [500_000.0] * 7 and metrics[0]["unit"] == "bytes"
    runfile.validate_metrics(metrics)
    assert json.loads((tmp_path / "files.json").read_text()) == [
        {"kind": "summary", "path": "summary.md", "title": "leakcheck: growth over rounds"}]


def test_judge_passes_a_flat_rss(tmp_path):
    rounds_json(tmp_path, [10 * MB + (i % 2) * 4096 for i in range(10)])
    r = judge(tmp_path, "--tolerance", "1%")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# leakcheck: pass, no steady growth over 10 rounds")
    assert "Tolerance: 1 % of the level a round." in r.stdout
    assert "shed" not in r.stdout


def test_the_summary_says_which_rounds_had_a_lighter_load(tmp_path):
    rounds_json(tmp_path, [10 * MB] * 6, loadgen_status=(2, 5))
    r = judge(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "loadgen shed starts in round 2, 5 (exit 3): that load was lighter" in r.stdout


def test_judge_without_enough_rounds_gives_no_verdict(tmp_path):
    rounds_json(tmp_path, [10 * MB] * 4)
    r = judge(tmp_path)
    assert r.returncode == 1
    assert "no verdict" in r.stderr and "a trend needs 3" in r.stderr
    assert not (tmp_path / "metrics.json").exists()


def test_judge_refuses_a_bad_tolerance_and_a_missing_dir(tmp_path):
    rounds_json(tmp_path, [10 * MB] * 10)
    r = judge(tmp_path, "--tolerance", "lots")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "64K, 1M" in r.stderr
    r = judge(tmp_path / "nowhere")
    assert r.returncode == 2 and "rounds.json" in r.stderr


@pytest.mark.parametrize("reap", [True, False], ids=["reaped", "a zombie"])
def test_rounds_of_a_process_that_ended_fail_in_one_line(tmp_path, reap):
    ended = subprocess.Popen(["true"])
    if reap:
        ended.wait()
    else:
        while psutil.Process(ended.pid).status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)
    r = subprocess.run([sys.executable, "-m", "perfkit", "profile", "growth", "rounds",
                        "--pid", str(ended.pid), "--rounds", "3", "--round-seconds", "1",
                        "--settle-seconds", "0", "-o", str(tmp_path)],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(HARNESS)})
    ended.wait()
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith(f"perfkit profile growth: no process {ended.pid}")
    assert not (tmp_path / "rounds.json").exists()
