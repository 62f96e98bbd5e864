"""The macOS and Windows wrappers (instruments.sh, etw.ps1) cannot run on
this Linux machine. What can be checked here is: their parsers, on sample
documents in data/instruments and data/etw, and the scripts themselves as
far as a Linux machine can read them.

The samples are HAND-MADE from the tools' documentation and from exports
that others published (profiling/tests/data/README.md names the sources),
not captured from xctrace, leaks or xperf: they prove the parsers read the
documented format, not that the format is what a given Xcode or Windows
Performance Toolkit prints."""
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfkit import runfile
from perfkit.profiles import etw, folded, instruments, outdir
from perfkit.profiles.sampled_stacks import as_folded, self_counts

DATA = Path(__file__).resolve().parent / "data"
MAC = DATA / "instruments"
WIN = DATA / "etw"
PROFILING = Path(__file__).resolve().parents[1]
HARNESS = PROFILING.parent / "harness"


def run_perfkit(*args):
    env = {**os.environ, "PYTHONPATH": str(HARNESS)}
    return subprocess.run([sys.executable, "-m", "perfkit", *args], capture_output=True,
                          text=True, env=env)


# -- xctrace: table of contents ---------------------------------------------------

def test_toc_gives_the_launched_target_and_what_the_trace_holds():
    toc = instruments.parse_toc((MAC / "toc-time.xml").read_text())
    assert (toc.template, toc.target_name, toc.target_pid, toc.target_type) == \
        ("Time Profiler", "hot_function", 4242, "launched")
    assert toc.exit_status == 0
    assert toc.duration_s == pytest.approx(2.100412)
    assert "time-profile" in toc.schemas


def test_toc_of_allocations_lists_the_track_details():
    toc = instruments.parse_toc((MAC / "toc-alloc.xml").read_text())
    assert ("Allocations", "Statistics") in toc.details
    assert toc.target_type == "attached"


def test_toc_refuses_another_document():
    with pytest.raises(ValueError, match="table of contents"):
        instruments.parse_toc("<trace-query-result/>")
    with pytest.raises(ValueError, match="not XML"):
        instruments.parse_toc("Document Missing Template Error")


# -- xctrace: Time Profiler --------------------------------------------------------

def test_time_profile_counts_the_targets_samples_through_refs():
    prof = instruments.parse_time_profile((MAC / "time-profile.xml").read_text(), pid=4242)
    # 6 rows of pid 4242 (refs for thread, weight and one whole backtrace),
    # the WindowServer row left out.
    assert prof.samples == 6
    assert prof.weight_ns == 6_000_000
    assert prof.processes == {"hot_function (4242)": 6, "WindowServer (99)": 1}
    assert prof.without_stack == 1


def test_time_profile_stacks_are_root_first_and_read_tagged_backtraces():
    prof = instruments.parse_time_profile((MAC / "time-profile.xml").read_text(), pid=4242)
    # Two plain rows and one <tagged-backtrace> of the same stack.
    assert prof.stacks[("start", "main", "compute", "hot")] == 3
    assert prof.stacks[("start", "main", "compute")] == 1
    # An unsymbolicated frame keeps its binary.
    assert prof.stacks[("start", "main", "hot_function!0x100003f66")] == 1
    assert prof.stacks[("[no backtrace]",)] == 1
    assert self_counts(prof.stacks)[0] == ("hot", 3)


def test_time_profile_without_a_pid_counts_every_process():
    prof = instruments.parse_time_profile((MAC / "time-profile.xml").read_text())
    assert prof.samples == 7


def test_time_profile_refuses_another_table_and_a_dangling_ref():
    stats = (MAC / "alloc-statistics.xml").read_text()
    with pytest.raises(ValueError, match="time-profile"):
        instruments.parse_time_profile(stats)
    broken = ('<trace-query-result><node><schema name="time-profile"/>'
              '<row><thread ref="9"/></row></node></trace-query-result>')
    with pytest.raises(ValueError, match="refers to no element"):
        instruments.parse_time_profile(broken)


def test_folded_stacks_are_sorted_lines_with_semicolons_escaped():
    out = io.StringIO()
    folded.write(as_folded({("main", "a;b"): 2, ("main",): 1, ("main", "a:b"): 1}), out)
    assert out.getvalue() == "main 1\nmain;a:b 3\n"


# -- xctrace: Allocations ----------------------------------------------------------

def test_allocation_statistics_give_heap_allocations_and_persistent_bytes():
    stats = instruments.parse_allocation_statistics((MAC / "alloc-statistics.xml").read_text())
    heap = stats["All Heap Allocations"]
    assert heap["count-total"] == 4004
    assert heap["persistent-bytes"] == 1056768
    assert instruments.statistics_inconsistencies(stats) == []
    names = {m["name"]: m for m in instruments.alloc_metrics(stats, prefix="mac")}
    assert names["mac.heap.allocations"]["samples"] == [4004.0]
    assert names["mac.heap.persistent_bytes"]["unit"] == "bytes"
    runfile.validate_metrics(list(names.values()))


def test_allocation_statistics_that_do_not_add_up_are_said():
    bad = ('<trace-query-result><node><row category="All Heap Allocations" '
           'persistent-bytes="10" transient-bytes="5" total-bytes="16" count-total="3"/>'
           '</node></trace-query-result>')
    stats = instruments.parse_allocation_statistics(bad)
    assert instruments.statistics_inconsistencies(stats) == [
        "All Heap Allocations: persistent-bytes + transient-bytes = 15, total-bytes = 16"]
    assert "does not add up" in instruments.alloc_summary(stats)


def test_allocation_statistics_without_the_heap_row_are_refused():
    with pytest.raises(ValueError, match="All Heap Allocations"):
        instruments.parse_allocation_statistics("<trace-query-result><node/></trace-query-result>")


# -- leaks(1) ------------------------------------------------------------------------

def test_leaks_report_gives_leaked_bytes_blocks_and_peak_footprint():
    rep = instruments.parse_leaks((MAC / "leaks-atexit.txt").read_text())
    assert (rep.pid, rep.process, rep.leaks, rep.leaked_bytes) == (7212, "leak_bytes", 5, 4160)
    assert (rep.nodes, rep.malloced_bytes) == (215, 21 * 1024)
    assert rep.peak_footprint_bytes == round(2.5 * 1024 ** 2)
    # The four leaks of one site are one row, addresses dropped.
    assert rep.roots == [(4, 4096, "ROOT LEAK", "<malloc in leak_one>"),
                         (1, 64, "ROOT LEAK", "<malloc in leak_small>")]
    names = {m["name"]: m["samples"] for m in instruments.leaks_metrics(rep)}
    assert names == {"heap.leaked_bytes": [4160.0], "heap.leaked_blocks": [5.0],
                     "heap.peak_footprint_bytes": [2621440.0]}


def test_leaks_report_of_no_leaks():
    rep = instruments.parse_leaks((MAC / "leaks-none.txt").read_text())
    assert (rep.leaks, rep.leaked_bytes, rep.roots) == (0, 0, [])


def test_leaks_singular_line_and_a_failed_run():
    rep = instruments.parse_leaks("Process 1: 1 leak for 16 total leaked bytes.\n")
    assert (rep.leaks, rep.leaked_bytes) == (1, 16)
    with pytest.raises(ValueError, match="not a leaks report"):
        instruments.parse_leaks("leaks[77]: [fatal] unable to examine process\n")


@pytest.mark.parametrize("text, size", [("16 bytes", 16), ("1.00K", 1024), ("21 KB", 21504),
                                        ("4.0G", 4 * 1024 ** 3), ("1296K", 1296 * 1024),
                                        ("lots", None)])
def test_sizes_as_leaks_prints_them(text, size):
    assert instruments.parse_size(text) == size


# -- xperf dumper (ETW CPU) -------------------------------------------------------------

def _dump(**kw):
    with open(WIN / "cpu-dumper.txt") as f:
        return etw.parse_dumper(f, **kw)


def test_dumper_counts_the_targets_samples_and_leaves_idle_out():
    prof = _dump(pid=4242)
    assert prof.samples == 5
    assert prof.processes["Idle (0)"] == 1
    assert (prof.events_lost, prof.buffers_lost, prof.trace_length) == (0, 0, "2 sec")


def test_dumper_joins_each_sample_to_its_stack_root_first():
    prof = _dump(pid=4242)
    root_first = ("kernel32.dll!BaseThreadInitThunk", "hot_function.exe!main",
                  "hot_function.exe!compute", "hot_function.exe!hot")
    assert prof.stacks[root_first] == 3
    # A frame with commas in it stays whole.
    assert prof.stacks[("hot_function.exe!worker", "hot_function.exe!table<int,4>::lookup")] == 1
    # A context switch's stack belongs to no sample; a sample without a stack keeps its leaf.
    assert prof.stacks[("[no stack]", "hot_function.exe!compute")] == 1
    assert prof.without_stack == 1
    assert sum(prof.stacks.values()) == prof.samples


def test_dumper_by_process_name_and_of_everything():
    assert _dump(name="HOT_FUNCTION.EXE").samples == 5
    assert _dump().samples == 6    # svchost too, never Idle


def test_dumper_gives_up_on_a_stack_that_never_comes():
    lines = ["SampledProfile, %d, a.exe (5), 9, 0x1, 0, a.exe!s, a.exe!f%d, 1, Unbatched" % (t, t)
             for t in range(1, 5)]
    prof = etw.parse_dumper(lines, pid=5, max_pending=2)
    assert prof.samples == 4 and prof.without_stack == 4


# -- xperf -a heap -totals (ETW heap) ----------------------------------------------------

def test_heap_totals_sum_the_heaps():
    total, heaps = etw.parse_heap_totals((WIN / "heap-totals.txt").read_text())
    assert heaps == 2
    assert total["allocs"] == 1504
    assert total["outstanding_kb"] == pytest.approx(4.125)
    names = {m["name"]: m["samples"] for m in etw.heap_metrics(total)}
    assert names == {"heap.allocations": [1504.0], "heap.outstanding_bytes": [4224.0]}


def test_heap_totals_prefer_the_total_row():
    text = ("  10  1.0  2  0.5  0  64.0  64.0  0x10\n"
            "Total  99  9.0  3  1.0  1  128.0  128.0\n")
    total, _ = etw.parse_heap_totals(text)
    assert total["allocs"] == 99


def test_heap_totals_refuse_text_without_a_table():
    with pytest.raises(ValueError, match="no heap table"):
        etw.parse_heap_totals("xperf: error: heap.etl: no heap events\n")


# -- the verbs and the output directory ----------------------------------------------------

def test_instruments_time_verb_writes_the_output_directory(tmp_path):
    r = run_perfkit("profile", "instruments", "time", "--table", str(MAC / "time-profile.xml"),
                    "--toc", str(MAC / "toc-time.xml"), "--out", str(tmp_path), "--prefix", "mac")
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "metrics.json").read_text())
    assert [m["name"] for m in doc["metrics"]] == ["mac.cpu.samples"]
    assert doc["metrics"][0]["samples"] == [6.0]       # the TOC's pid 4242
    runfile.validate_metrics(doc["metrics"])
    files = json.loads((tmp_path / "files.json").read_text())
    assert files[-1] == {"kind": "summary", "path": "summary.md",
                         "title": "Time Profiler (xctrace)"}
    assert files[0]["path"] == "flamegraph.svg" and (tmp_path / "flamegraph.svg").exists()
    assert (tmp_path / "summary.md").read_text() == r.stdout
    assert "start;main;compute;hot 3" in (tmp_path / "stacks.folded").read_text()


def test_instruments_time_verb_says_when_the_pid_has_no_samples(tmp_path):
    r = run_perfkit("profile", "instruments", "time", "--table", str(MAC / "time-profile.xml"),
                    "--pid", "1", "--out", str(tmp_path))
    assert r.returncode == 2
    assert "no samples of pid 1" in r.stderr and "hot_function (4242)" in r.stderr
    assert not (tmp_path / "metrics.json").exists()


@pytest.mark.parametrize("args", [
    ["instruments", "alloc", "--statistics", str(MAC / "alloc-statistics.xml")],
    ["instruments", "leaks", "--report", str(MAC / "leaks-atexit.txt")],
    ["etw", "cpu", "--dump", str(WIN / "cpu-dumper.txt"), "--pid", "4242"],
    ["etw", "heap", "--totals", str(WIN / "heap-totals.txt")],
])
def test_every_mode_writes_valid_metrics(tmp_path, args):
    r = run_perfkit("profile", *args, "--out", str(tmp_path), "--prefix", "p")
    assert r.returncode == 0, r.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    runfile.validate_metrics(metrics)
    assert metrics and all(m["name"].startswith("p.") for m in metrics)
    # perfkit's own importer takes it.
    imported = run_perfkit("import", "metrics-json", str(tmp_path / "metrics.json"),
                           "-o", str(tmp_path / "run.json"))
    assert imported.returncode == 0, imported.stderr


def test_a_bad_input_file_is_one_line_and_status_2(tmp_path):
    bad = tmp_path / "leaks.txt"
    bad.write_text("leaks: unable to examine process\n")
    r = run_perfkit("profile", "instruments", "leaks", "--report", str(bad), "--out",
                    str(tmp_path / "o"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_outdir_refuses_a_file_outside_it(tmp_path):
    m = instruments.time_metrics(instruments.TimeProfile(samples=1))
    with pytest.raises(ValueError, match="inside the output directory"):
        outdir.write(tmp_path, m, "# x\n", [{"kind": "flamegraph", "path": "../x.svg",
                                             "title": "x"}])
    with pytest.raises(ValueError, match="kind"):
        outdir.write(tmp_path, m, "# x\n", [{"kind": "pprof", "path": "x.pb", "title": "x"}])
    assert not (tmp_path / "metrics.json").exists()


def test_the_flame_graph_is_drawn_from_the_stacks_or_its_absence_said(tmp_path):
    svg, note = outdir.flamegraph(tmp_path, as_folded({("main", "hot"): 3}), "f.svg", "t")
    assert (svg, note) == ("f.svg", "Flame graph: f.svg.")
    assert "hot" in (tmp_path / "f.svg").read_text()
    assert outdir.flamegraph(tmp_path, {}, "g.svg", "t") == (
        None, "No flame graph: no samples: nothing to draw.")


# -- the scripts ------------------------------------------------------------------------------

def test_instruments_sh_is_shellcheck_clean():
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    r = subprocess.run(["shellcheck", "-x", "instruments.sh"], cwd=PROFILING,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_instruments_sh_parses():
    r = subprocess.run(["bash", "-n", str(PROFILING / "instruments.sh")], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_instruments_sh_help_runs_on_linux():
    r = subprocess.run([str(PROFILING / "instruments.sh"), "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    for word in ("--template", "time", "alloc", "leaks", "xctrace", "macOS"):
        assert word in r.stdout


def test_instruments_sh_says_it_needs_macos_when_asked_to_record(tmp_path):
    r = subprocess.run([str(PROFILING / "instruments.sh"), "-o", str(tmp_path / "o"),
                        "--template", "time", "--", "true"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "needs macOS" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_instruments_sh_refuses_a_bad_template_before_anything_else(tmp_path):
    r = subprocess.run([str(PROFILING / "instruments.sh"), "-o", str(tmp_path / "o"),
                        "--template", "cpu", "--", "true"], capture_output=True, text=True)
    assert r.returncode == 2 and "--template" in r.stderr


def test_etw_ps1_parses_by_the_tree_sitter_grammar():
    """No PowerShell here (no pwsh in Debian 12; the npm `pwsh` package
    downloads a binary at install, which this machine cannot). The one real
    parser that installs offline is tree-sitter's PowerShell grammar (npm:
    tree-sitter, tree-sitter-powershell, with prebuilt binaries): it finds
    syntax errors, but it is not PowerShell's own parser, so a script it
    accepts may still be refused by PowerShell. PS1_PARSER_DIR names the
    directory those two npm packages are installed in."""
    parser_dir = os.environ.get("PS1_PARSER_DIR")
    if not parser_dir or not shutil.which("node"):
        pytest.skip("set PS1_PARSER_DIR to a directory with `npm install tree-sitter@0.25 "
                    "tree-sitter-powershell@0.26.4` (and have node) to parse etw.ps1")
    r = subprocess.run(["node", str(Path(__file__).parent / "ps1_parse.mjs"), parser_dir,
                        str(PROFILING / "etw.ps1")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "parses" in r.stdout


# -- instruments.sh's own steps, against stand-ins for xcrun, leaks and uname --------------
#
# Not macOS: stand-in commands that answer as the documentation says xctrace
# and leaks do (and log how they were called), so that the wrapper's
# arguments, its exit statuses and its stop-on-SIGTERM are checked here. With
# BASH32 naming a bash 3.2 (macOS's), every case runs under it as well.

XCRUN = r'''#!PYTHON
import json, os, shutil, signal, subprocess, sys, time
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(args) + "\n")
if args[:2] == ["--find", "xctrace"]:
    sys.exit(0)
opt = lambda name: args[args.index(name) + 1] if name in args else None
if args[1] == "record":
    out = opt("--output")
    if "--launch" in args:
        subprocess.call(args[args.index("--launch") + 2:])
    else:
        stopped = []
        signal.signal(signal.SIGINT, lambda *a: stopped.append(1))
        with open(os.environ["STUB_LOG"] + ".recording", "w"):
            pass
        limit = opt("--time-limit")
        end = time.time() + (int(limit[:-2]) / 1000 if limit else 30)
        while not stopped and time.time() < end:
            time.sleep(0.02)
    if not os.environ.get("STUB_NO_TRACE"):
        os.makedirs(out)
    sys.exit(54 if "--launch" not in args and stopped else 0)
if args[1] == "export":
    xpath = opt("--xpath") or ""
    name = ("toc-alloc.xml" if "alloc" in opt("--input") else "toc-time.xml") if "--toc" in args \
        else "time-profile.xml" if "time-profile" in xpath else "alloc-statistics.xml"
    shutil.copy(os.path.join(os.environ["STUB_DATA"], name), opt("--output"))
'''

LEAKS = r'''#!PYTHON
import json, os, subprocess, sys
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(["leaks", os.environ.get("MallocStackLogging")] + args) + "\n")
data = os.environ["STUB_DATA"]
if args[0] == "--atExit":
    subprocess.call(args[2:])
    sys.stdout.write(open(os.path.join(data, "leaks-atexit.txt")).read())
    sys.exit(1)
sys.stdout.write(open(os.path.join(data, "leaks-none.txt")).read())
'''

SHELLS = ["bash"] + ([os.environ["BASH32"]] if os.environ.get("BASH32") else [])


@pytest.fixture
def mac(tmp_path):
    """(env, log path): PATH begins with the stand-ins."""
    bin_dir = tmp_path / "stubs"
    bin_dir.mkdir()
    for name, text in (("xcrun", XCRUN), ("leaks", LEAKS), ("uname", "#!/bin/sh\necho Darwin\n")):
        (bin_dir / name).write_text(text.replace("PYTHON", sys.executable))
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log),
           "STUB_DATA": str(MAC), "PERFKIT_PYTHON": sys.executable}
    return env, log


def _calls(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def _wrapper(shell, *args):
    return [shell, str(PROFILING / "instruments.sh"), *args]


@pytest.mark.parametrize("shell", SHELLS)
def test_time_profiler_launch_records_exports_and_summarises(mac, tmp_path, shell):
    env, log = mac
    out = tmp_path / "out"
    r = subprocess.run(_wrapper(shell, "-o", str(out), "--prefix", "mac", "-d", "1.5", "--",
                                "/bin/echo", "a b"), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    record = _calls(log)[1]
    assert record[:6] == ["xctrace", "record", "--template", "Time Profiler", "--output",
                          str(out / "time.trace")]
    assert "--no-prompt" in record and record[record.index("--time-limit") + 1] == "1500ms"
    assert record[-4:] == ["--launch", "--", "/bin/echo", "a b"]
    assert r.stdout.startswith("a b\n# Time Profiler")   # the program's output, then the summary
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert [(m["name"], m["samples"]) for m in metrics] == [("mac.cpu.samples", [6.0])]
    assert (out / "stacks.folded").exists()


@pytest.mark.slow
@pytest.mark.parametrize("shell", SHELLS)
def test_allocations_attach_stops_and_saves_on_sigterm(mac, tmp_path, spawn, shell):
    env, log = mac
    target = spawn(["sleep", "30"])
    out = tmp_path / "out"
    wrapper = subprocess.Popen(_wrapper(shell, "-o", str(out), "--template", "alloc", "--pid",
                                        str(target.pid)), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        recording = Path(str(log) + ".recording")
        for _ in range(500):     # until the stand-in records (a bounded wait, not a timing test)
            if recording.exists() or wrapper.poll() is not None:
                break
            subprocess.run(["sleep", "0.02"])
        assert recording.exists(), wrapper.communicate()[1]
        wrapper.terminate()
        stdout, stderr = wrapper.communicate(timeout=60)
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
            wrapper.wait()
    assert wrapper.returncode == 0, stderr
    record = _calls(log)[1]
    assert record[record.index("--attach") + 1] == str(target.pid)
    assert "--time-limit" not in record
    names = [m["name"] for m in json.loads((out / "metrics.json").read_text())["metrics"]]
    assert names == ["heap.allocations", "heap.persistent_bytes"]
    assert "# Allocations" in stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_leaks_at_exit_with_stack_logging(mac, tmp_path, shell):
    env, log = mac
    out = tmp_path / "out"
    r = subprocess.run(_wrapper(shell, "-o", str(out), "--template", "leaks", "--", "true"),
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr        # leaks found is a profile, not a failure
    assert _calls(log)[0] == ["leaks", "1", "--atExit", "--", "true"]
    metrics = {m["name"]: m["samples"] for m in
               json.loads((out / "metrics.json").read_text())["metrics"]}
    assert metrics["heap.leaked_bytes"] == [4160.0]
    assert (out / "leaks.txt").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_leaks_of_a_running_process(mac, tmp_path, spawn, shell):
    env, log = mac
    target = spawn(["sleep", "30"])
    r = subprocess.run(_wrapper(shell, "-o", str(tmp_path / "o"), "--template", "leaks",
                                "--pid", str(target.pid)), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _calls(log)[0][2:] == [str(target.pid)]


def test_leaks_refuses_seconds_with_a_command(mac, tmp_path):
    env, _ = mac
    r = subprocess.run(_wrapper("bash", "-o", str(tmp_path / "o"), "--template", "leaks",
                                "-d", "2", "--", "true"), env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "--seconds" in r.stderr


def test_no_trace_written_is_a_failed_profile(mac, tmp_path):
    env, _ = mac
    r = subprocess.run(_wrapper("bash", "-o", str(tmp_path / "o"), "--", "true"),
                       env={**env, "STUB_NO_TRACE": "1"}, capture_output=True, text=True)
    assert r.returncode == 1 and "wrote no trace" in r.stderr
