"""heaptrack_print's text and stack files read by perfkit.profiles.heaptrack,
and made into metrics and summary.md by heaptrack_summary: on real output
captured from heaptrack 1.4 (data/heaptrack/, its README says how), and on
lines heaptrack prints only now and then, or that it never prints."""
import shutil
import subprocess
from pathlib import Path

import pytest

from perfkit import runfile
from perfkit.importers.generic import from_metrics_json
from perfkit.profiles import heaptrack, heaptrack_analyze, heaptrack_summary
from perfkit.profiles.heaptrack import Frame, ParseError, Size

DATA = Path(__file__).resolve().parent / "data" / "heaptrack"


def text(name):
    return (DATA / name).read_text()


def parse(name):
    return heaptrack.parse(text(name))


def analysis(report, exact=None, attached=False):
    return heaptrack_analyze.Analysis(Path("heaptrack.x.zst"), report, exact or {}, attached,
                                      "1.4.0")


# Sizes: decimal, two decimals, the unit's first letter.

@pytest.mark.parametrize("printed, value, error", [
    ("512B", 512, 0), ("1000B", 1000, 0), ("0B", 0, 0), ("-20B", -20, 0),
    ("1.00K", 1000, 5), ("4.00K", 4000, 5), ("1000.00K", 1_000_000, 5),
    ("67.11M", 67_110_000, 5000), ("1.23G", 1_230_000_000, 5_000_000),
    ("-1.50K", -1500, 5), ("4.00KB", 4000, 5),  # the wide form of --print-suppressions
])
def test_size_is_decimal_with_its_rounding(printed, value, error):
    size = Size.parse(printed)
    assert (size.bytes, size.error) == (value, error)


@pytest.mark.parametrize("printed", ["12", "1.5X", "1,50K", "K", "1.00 K", "0x10B", ""])
def test_size_refuses_what_heaptrack_does_not_print(printed):
    assert Size.parse(printed) is None


def test_64_mib_as_heaptrack_prints_it_is_within_its_stated_error():
    size = Size.parse("67.11M")
    assert abs(64 * 2**20 - size.bytes) <= size.error


# Real output.

def test_totals_of_the_known_program():
    r = parse("known.txt")
    assert r.command == "/tmp/heap_known"
    assert r.totals["allocations"] == 1075
    assert r.totals["temporary"] == 1001
    assert r.totals["peak"] == Size(67_180_000, 5000, "67.18M")
    assert r.totals["peak_rss"].bytes == 70_460_000
    assert r.totals["leaked"] == Size(1_000_000, 5, "1000.00K")
    assert r.totals["runtime_s"] == pytest.approx(1.09)
    assert r.missing == [] and r.unknown == []


def test_sites_of_the_known_program():
    r = parse("known.txt")
    assert list(r.sections) == ["allocations", "peak", "leaked", "temporary"]
    leak = r.sections["leaked"][0]
    assert leak.values["leaked"].bytes == 1_000_000
    assert leak.frames == [Frame("must_malloc", "/work/main/profiling/tests/programs/heap_known.c",
                                 26, "/tmp/heap_known")]
    assert [f.function for f in leak.traces[0].frames] == ["leak_blocks", "main"]
    assert leak.traces[0].values == {"leaked": Size(1_000_000, 5, "1000.00K"), "calls": 10}
    calls = r.sections["allocations"][0]
    assert calls.values["calls"] == 1074
    assert [t.values["calls"] for t in calls.traces] == [1000, 64, 10]
    temporary = r.sections["temporary"][0]
    assert temporary.traces[0].values == {"temporary": 1000, "calls": 1000}
    # A site heaptrack has no symbols for: an address, its module, no file.
    pool = r.sections["peak"][1]
    assert pool.frames[0].function.startswith("0x")
    assert pool.frames[0].file is None and pool.frames[0].module.endswith("libstdc++.so.6")


def test_cpp_frames_inlined_frames_and_other_places():
    r = parse("procmond.txt")
    site = r.sections["allocations"][0]
    assert site.values["calls"] == 37600
    first = site.frames[0]
    assert first.function == "std::__new_allocator<>::allocate(unsigned long, void const*)"
    assert first.module == "/work/main/build/bin/procmond"
    # Frames heaptrack gives no `in MODULE` are inlined into the one before.
    assert any(f.module is None and f.file for f in site.frames[1:])
    assert site.others == (32377, 198)
    assert r.sections["peak"][0].others == (Size(254_210, 5, "254.21K"), 198)
    # heaptrack prints the temporary list's rest as a size: "206B" is 206.
    assert r.sections["temporary"][0].others == (Size(206, 0, "206B"), 251)
    assert r.totals["leaked"] == Size(741, 0, "741B")


def test_unmerged_output_puts_each_whole_stack_on_its_site():
    r = parse("known_unmerged.txt")
    leak = r.sections["leaked"][0]
    assert leak.values == {"leaked": Size(1_000_000, 5, "1000.00K"), "calls": 10}
    assert [f.function for f in leak.frames] == ["must_malloc", "leak_blocks", "main"]
    assert leak.traces == []


def test_suppressed_leaks_and_the_suppressions_table():
    r = parse("known_suppressed.txt")
    assert r.totals["leaked"].bytes == 0
    assert r.totals["suppressed"] == Size(1_000_000, 5, "1000.00K")
    assert r.sections["leaked"] == []
    assert [(m, s.bytes) for m, s, _ in r.suppressions] == [(4, 1_000_000)]
    assert "allocations" not in r.sections  # not asked for (-a 0)


def test_attached_recording_reads_the_same():
    r = parse("ticker_attached.txt")
    assert r.command == "./heap_ticker 30"
    assert r.sections["leaked"][0].frames[0].function == "tick_allocate"


def test_an_empty_recording_has_no_command():
    r = parse("empty.txt")
    assert r.command is None
    assert r.totals["allocations"] == 0 and r.sections["peak"] == []


def test_stack_files_sum_to_the_exact_figures():
    leaked = heaptrack.parse_stacks(text("known.leaked.stacks"))
    peak = heaptrack.parse_stacks(text("known.peak.stacks"))
    assert sum(c for _, c in leaked) == 1_000_000
    by_stack = {tuple(f.split(" (")[0] for f in frames): c for frames, c in peak}
    assert by_stack[("must_malloc", "peak_blocks", "main")] == 64 * 2**20
    # The rest of the peak: libstdc++'s emergency exception pool, which
    # heaptrack's own preload library brings into a C program.
    assert sum(c for _, c in peak) == 64 * 2**20 + 72_704


def test_stack_file_line_without_a_cost_is_an_error():
    assert heaptrack.parse_stacks("?? 12\nmain (a.c);f (a.c); 3\n") == [
        (["??"], 12), (["f (a.c)", "main (a.c)"], 3)]
    with pytest.raises(ValueError, match="line 2"):
        heaptrack.parse_stacks("main; 1\nmain;f;\n")


# Lines heaptrack prints only now and then, and lines it never prints.

def known_with(old, new):
    original = text("known.txt")
    assert old in original
    return original.replace(old, new, 1)


def test_a_lost_stack_shares_its_line_with_what_follows():
    # printBacktrace prints "  ??" with no line end for a stack it lost.
    lost = known_with(
        "1000 calls with 0B peak consumption from:\n"
        "    temporary_allocations\n"
        "      at /work/main/profiling/tests/programs/heap_known.c:56\n"
        "      in /tmp/heap_known\n"
        "    main\n"
        "      at /work/main/profiling/tests/programs/heap_known.c:66\n"
        "      in /tmp/heap_known\n"
        "64 calls",
        "1000 calls with 0B peak consumption from:\n  ??64 calls")
    site = heaptrack.parse(lost).sections["allocations"][0]
    assert site.traces[0].frames == [Frame("??")]
    assert site.traces[1].values["calls"] == 64
    assert site.traces[1].frames[0].function == "peak_blocks"


def test_a_figure_that_does_not_read_is_an_error_naming_its_line():
    bad = known_with("peak heap memory consumption: 67.18M",
                     "peak heap memory consumption: 67,18M")
    with pytest.raises(ParseError, match=r"line \d+: cannot read the peak figure: "
                                         r"'peak heap memory consumption: 67,18M'"):
        heaptrack.parse(bad)


def test_a_missing_figure_is_left_out_and_named_never_a_zero():
    r = heaptrack.parse(known_with("peak RSS (including heaptrack overhead): 70.46M\n", ""))
    assert "peak_rss" not in r.totals and r.missing == ["peak_rss"]
    names = [m["name"] for m in heaptrack_summary.metrics(analysis(r))]
    assert "heap.peak_rss_bytes" not in names and "heap.peak_bytes" in names
    md = heaptrack_summary.summary_markdown(analysis(r), "x.zst")
    assert "heaptrack_print did not print: peak_rss" in md


def test_an_unknown_figure_among_the_totals_is_kept_and_said():
    line = "bytes allocated in total (ignoring deallocations): 70.00M"
    r = heaptrack.parse(known_with("total memory leaked: 1000.00K",
                                   f"{line}\ntotal memory leaked: 1000.00K"))
    assert r.unknown == [line] and r.totals["leaked"].bytes == 1_000_000
    assert line in heaptrack_summary.summary_markdown(analysis(r), "x.zst")


@pytest.mark.parametrize("old, new, why", [
    ("finished reading file", "something else entirely\nfinished reading file",
     "before its lists"),
    ("PEAK MEMORY CONSUMERS\n", "PEAK MEMORY CONSUMERS\nhello\n", "expected an entry"),
    ("    leak_blocks\n", "   leak_blocks\n", "indented 3"),
    ("total memory leaked: 1000.00K", "total memory leaked: 1000.00K\nthis is not heaptrack",
     "not a line of heaptrack_print's totals"),
    ("total memory leaked: 1000.00K", "total memory leaked: 1000.00K\ntotal memory leaked: 0B",
     "given twice"),
    ("      at /work/main/profiling/tests/programs/heap_known.c:48\n",
     "      at /work/main/profiling/tests/programs/heap_known.c:48\n"
     "      at /work/main/profiling/tests/programs/heap_known.c:49\n", "out of place"),
])
def test_lines_heaptrack_never_prints_are_errors(old, new, why):
    with pytest.raises(ParseError, match=why) as e:
        heaptrack.parse(known_with(old, new))
    assert e.value.number > 0


# Metrics and summary.md.

def test_metrics_take_the_exact_figures_and_validate():
    r = parse("known.txt")
    a = analysis(r, {"peak": 67_181_568, "leaked": 1_000_000})
    ms = heaptrack_summary.metrics(a, prefix="heap_known")
    runfile.validate_metrics(ms)
    assert from_metrics_json({"metrics": ms})  # what `perfkit import metrics-json` reads
    values = {m["name"]: m["samples"] for m in ms}
    assert values == {"heap_known.heap.peak_bytes": [67_181_568],
                      "heap_known.heap.peak_rss_bytes": [70_460_000],
                      "heap_known.heap.allocations": [1075],
                      "heap_known.heap.temporary_allocations": [1001],
                      "heap_known.heap.leaked_bytes": [1_000_000]}
    assert all(m["better"] == "lower" for m in ms)


def test_summary_says_what_leaked_means_when_attached():
    r = parse("ticker_attached.txt")
    md = heaptrack_summary.summary_markdown(analysis(r, attached=True), "x.zst",
                                            status={"pid": 4180})
    assert "still allocated when heaptrack detached" in md
    assert "attached to the running process 4180" in md
    started = heaptrack_summary.summary_markdown(analysis(r, attached=False), "x.zst")
    assert "never freed" in started and "detached" not in started


def test_summary_says_a_program_killed_by_the_stop_lost_its_last_events():
    r = parse("ticker_attached.txt")
    md = heaptrack_summary.summary_markdown(analysis(r), "x.zst",
                                            status={"stopped": True, "exit_status": 143})
    assert "still allocated when it was stopped" in md and "were lost" in md
    clean = heaptrack_summary.summary_markdown(analysis(r), "x.zst",
                                               status={"stopped": True, "exit_status": 0})
    assert "were lost" not in clean and "not freed by its exit" in clean


def test_summary_lists_the_top_sites_with_short_stacks():
    r = parse("procmond.txt")
    md = heaptrack_summary.summary_markdown(analysis(r, {"peak": 2_999_306, "leaked": 741}),
                                            "heaptrack.procmond.zst", top=2)
    assert "| peak heap | 2,999,306 B (3.00 MB) | `heap.peak_bytes` |" in md
    assert "| leaked | 741 B | `heap.leaked_bytes` |" in md
    assert "`procmond::encode` event_codec.cpp:96" in md  # parameters dropped
    assert "library frames)" in md  # std:: runs folded
    assert "and 32,377 from 198 other stacks" in md
    assert max(len(line) for line in md.splitlines() if line.startswith("   - ")) < 700


@pytest.mark.parametrize("name, short", [
    ("ns::f(int, char) const", "ns::f"),
    ("main", "main"),
    ("operator()", "operator()"),
    ("Foo::operator()(int) const", "Foo::operator()"),
    ("void std::vector<>::emplace_back<>(std::basic_string_view<>&&)",
     "void std::vector<>::emplace_back<>"),
    ("CLI::App::add_option(std::string)::{lambda(int)#1}::operator()(int) const",
     "CLI::App::add_option(std::string)::{lambda(int)#1}::operator()"),
])
def test_function_names_lose_their_parameters(name, short):
    assert heaptrack_summary._function(name) == short


@pytest.mark.skipif(not (shutil.which("heaptrack_print") and shutil.which("zstd")),
                    reason="needs heaptrack_print and zstd (apt-get install heaptrack zstd)")
def test_an_empty_recording_is_not_read_as_zeros(tmp_path):
    empty = tmp_path / "heaptrack.nothing.zst"
    empty.write_bytes(subprocess.run(["zstd", "-c"], input=b"", capture_output=True,
                                     check=True).stdout)
    with pytest.raises(heaptrack_analyze.AnalysisError, match="holds no recording"):
        heaptrack_analyze.analyze(empty, tmp_path)
