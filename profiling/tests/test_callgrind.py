"""profiling/callgrind.sh and perfkit's reading of callgrind's output: the
format read on stored files (real captures and one written by hand), per-call
counts of a C program with a known profile under the real callgrind, and the
wal preset end to end."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfkit import importers, runfile
from perfkit.profiles import callgrind, callgrind_metrics as cm

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[2]
WAL = DATA / "wal_run"

needs_valgrind = pytest.mark.skipif(shutil.which("valgrind") is None,
                                    reason="valgrind is not installed (apt-get install valgrind)")


# The format, on stored files.

def test_compressed_names_calls_and_costs_of_the_format():
    (part,) = callgrind.read(DATA / "format_sample.callgrind.out")
    assert part.events == ["Ir", "Dr"]
    # No summary line: the self costs add up to the total.
    assert part.total() == 1030
    assert part.self_cost == {"main": 30, "parse(char const*)": 300, "helper": 700}
    # cfn=(3) defined as helper'2 (a recursion level) and referred to by id
    # from another function: one function, called 4 + 6 times.
    assert part.calls == {"parse(char const*)": 2, "helper": 10}
    assert part.inclusive == {"parse(char const*)": 600, "helper": 700}


def test_real_toggled_run_counts_calls_from_calls_lines():
    (part,) = callgrind.read(DATA / "fixed_work.callgrind.out")  # fixed_work 5 100, --toggle-collect=work
    assert part.trigger == "Program termination"
    assert part.total() == 2540
    assert callgrind.calls_of(part, "work") == 5  # calls=1 and calls=4 lines, one compressed
    fig = callgrind.figure([part], "work")
    assert fig.value == 508 and fig.calls == 5 and fig.parts_used == 1


def test_parts_of_one_combined_file():
    # fixed_work 3 10 with --combine-dumps=yes --dump-after=work: three calls,
    # each a part, then the empty part written at exit.
    parts = callgrind.read(DATA / "fixed_work_each_call.callgrind.out")
    assert [p.number for p in parts] == [1, 2, 3, 4]
    assert [p.total() for p in parts] == [58, 58, 58, 0]
    assert [callgrind.calls_of(p, "work") for p in parts] == [1, 1, 1, 0]
    assert {p.pid for p in parts} == {parts[0].pid}
    fig = callgrind.figure(parts, "work")
    assert (fig.value, fig.parts_used, fig.parts_seen) == (58, 3, 4)


def test_median_over_parts_leaves_the_warm_up_call_out():
    # wal_bench's first append (part 1) also grows the writer's buffers and
    # binds its symbols; part 5 is a steady one: 100 records each.
    parts = cm.read_run(WAL)
    assert [p.number for p in parts] == [1, 5, 45]
    first, steady, _ = parts
    assert callgrind.calls_of(first, "procmond::wal::make_record_header(*") == 100
    fig = callgrind.figure([first, steady, steady], "procmond::wal::make_record_header(*")
    assert fig.value == pytest.approx(2255.29)
    assert callgrind.figure([first], "make_record_header").value == pytest.approx(3343.07)


def test_function_names_given_short_or_as_patterns():
    name = ("procmond::wal::WalWriter::append(std::span<std::basic_string_view<char, "
            "std::char_traits<char> > const, 18446744073709551615ul>)")
    for given in ("WalWriter::append", "procmond::wal::WalWriter::append", name,
                  "procmond::wal::WalWriter::append(*", "*append*"):
        assert callgrind.matcher(given)(name), given
    assert not callgrind.matcher("append")("procmond::wal::WalWriter::append_all(int)")
    assert not callgrind.matcher("WalWriter::append")("procmond::wal::WalWriter::appendix()")
    # [ is literal, as callgrind takes it: C++ names carry [abi:cxx11].
    assert callgrind.matcher("f[abi:cxx11](*")("f[abi:cxx11](int)")
    assert not callgrind.matcher("f[ab](*")("fa(int)")


def test_less_and_inclusive():
    (part,) = callgrind.read(DATA / "format_sample.callgrind.out")
    # All but parse's calls (1030 - 600) over helper's 10 calls; helper's
    # own inclusive cost (700) per call.
    assert callgrind.figure([part], "helper", less=("parse",)).value == pytest.approx(43.0)
    assert callgrind.figure([part], "helper", inclusive=True).value == pytest.approx(70.0)
    assert callgrind.figure([part]).value == 1030
    assert callgrind.figure([part], less=("helper",)).value == 330
    assert callgrind.figure([part], "never_called") is None


def test_not_callgrind_output_is_refused(tmp_path):
    bad = tmp_path / "x.out"
    bad.write_text("hello\n")
    with pytest.raises(callgrind.CallgrindFormatError, match="not a callgrind output"):
        callgrind.read(bad)
    bad.write_text("# callgrind format\nevents: Ir\nfn=(4)\n5 10\n")
    with pytest.raises(callgrind.CallgrindFormatError, match=r"x.out:3: .*never defined"):
        callgrind.read(bad)
    bad.write_text("# callgrind format\nevents: Ir\nfn=a\ncfn=b\ncalls=2 3\nfn=c\n")
    with pytest.raises(callgrind.CallgrindFormatError, match="not followed by its cost line"):
        callgrind.read(bad)
    with pytest.raises(callgrind.CallgrindFormatError, match="No such file"):
        callgrind.read(tmp_path / "missing")


def test_the_profiled_process_is_told_from_a_forked_child(tmp_path):
    run = tmp_path / "run-1"
    shutil.copytree(WAL, run)
    shutil.copy(DATA / "fixed_work.callgrind.out", run / "callgrind.out.77")  # a child's
    assert [f.name for f in cm.run_files(run)] == ["callgrind.out.1223.1", "callgrind.out.1223.5",
                                                   "callgrind.out.1223"]
    (run / "pid").unlink()
    with pytest.raises(cm.NoFigure, match="several processes"):
        cm.run_files(run)


# The verb, on stored files.

def _perfkit(*args):
    return subprocess.run([sys.executable, "-m", "perfkit", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO / "harness")})


def test_verb_writes_valid_metrics_files_and_summary(tmp_path):
    for i in (1, 2):
        shutil.copytree(WAL, tmp_path / f"run-{i}")
    done = _perfkit("profile", "callgrind", tmp_path, "--per-call", "wal_event",
                    "make_record_header", "--total", "appends", "--prefix", "cg",
                    "--command", "wal_bench", "--note", "a note")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "metrics.json").read_text())
    runfile.validate_metrics(doc["metrics"])
    got = {m["name"]: m for m in importers.from_metrics_json(doc)}
    event = got["cg.instructions.wal_event"]
    assert event["samples"] == [pytest.approx(2799.18)] * 2  # median of the two parts'
    assert (event["unit"], event["better"], event["portable"], event["runs"]) == \
        ("count", "lower", True, [1, 1])
    assert got["cg.instructions.appends"]["samples"] == [334307 + 225529] * 2
    files = json.loads((tmp_path / "files.json").read_text())
    assert {f["kind"] for f in files} == {"callgrind", "summary"}
    assert all((tmp_path / f["path"]).exists() for f in files)
    summary = (tmp_path / "summary.md").read_text()
    assert summary == done.stdout
    assert "user space only" in summary and "a note" in summary and "0.000 %" in summary


def test_verb_says_which_names_look_like_a_function_never_called(tmp_path):
    shutil.copytree(WAL, tmp_path / "run-1")
    done = _perfkit("profile", "callgrind", tmp_path, "--per-call", "", "WalWriter::write")
    assert done.returncode == 1
    assert "no call of 'WalWriter::write'" in done.stderr
    assert "procmond::wal::WalWriter::write_batch(" in done.stderr


def test_verb_bad_input_exits_2(tmp_path):
    assert _perfkit("profile", "callgrind", tmp_path, "--total", "x").returncode == 2  # no runs
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-1" / "callgrind.out.5").write_text("not callgrind\n")
    done = _perfkit("profile", "callgrind", tmp_path, "--total", "x")
    assert done.returncode == 2 and "not a callgrind output" in done.stderr
    done = _perfkit("profile", "callgrind", tmp_path)
    assert done.returncode == 2 and "nothing to measure" in done.stderr


# The wrapper under the real callgrind, on a program with a known profile.

@pytest.fixture
def wrapper(spawn, profiling_dir):
    """wrapper(out, *args) runs callgrind.sh in a session of its own, which
    the spawn fixture kills whole (valgrind and loadgen too) if a test fails."""
    def _run(out, *args, env=None):
        p = spawn([str(profiling_dir / "callgrind.sh"), "-o", str(out), *map(str, args)],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                  env={**os.environ, **(env or {})}, start_new_session=True)
        stdout, stderr = p.communicate(timeout=300)
        return subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    return _run


def _samples(out, name):
    doc = json.loads((Path(out) / "metrics.json").read_text())
    runfile.validate_metrics(doc["metrics"])
    return next(m["samples"] for m in doc["metrics"] if m["name"] == name)


@pytest.mark.slow
@pytest.mark.spawns
@needs_valgrind
def test_per_call_count_repeats_and_scales_linearly(wrapper, compile_c, tmp_path):
    prog = compile_c("fixed_work.c")
    per_call = {}
    for calls, loop, repeat in ((10, 1000, 2), (20, 1000, 1), (10, 2000, 1), (10, 3000, 1)):
        out = tmp_path / f"{calls}x{loop}"
        done = wrapper(out, "--toggle", "work", "--repeat", repeat, "--",
                        prog, calls, loop)
        assert done.returncode == 0, done.stderr
        samples = _samples(out, "instructions.work")
        assert len(set(samples)) == 1  # the same count in every process run
        per_call[calls, loop] = samples[0]
        assert "instructions.work" in done.stdout
    # The calls' number leaves the count per call alone...
    assert per_call[20, 1000] == per_call[10, 1000]
    # ...and each 1000 more steps a call add the same count.
    step = per_call[10, 2000] - per_call[10, 1000]
    assert per_call[10, 3000] - per_call[10, 2000] == step
    assert per_call[10, 2000] / per_call[10, 1000] == pytest.approx(2, rel=0.01)


@pytest.mark.slow
@pytest.mark.spawns
@needs_valgrind
def test_each_call_whole_run_and_names(wrapper, compile_c, tmp_path):
    prog = compile_c("fixed_work.c")
    done = wrapper(tmp_path / "each", "--toggle", "work", "--each-call",
                    "--name", "work_call", "--", prog, 7, 500)
    assert done.returncode == 0, done.stderr
    assert "7/8" in done.stdout  # seven calls, seven parts used, and the one at exit
    each = _samples(tmp_path / "each", "instructions.work_call")
    done = wrapper(tmp_path / "toggled", "--toggle", "work", "--", prog, 7, 500)
    assert _samples(tmp_path / "toggled", "instructions.work") == each
    done = wrapper(tmp_path / "whole", "--", prog, 7, 500)
    assert done.returncode == 0, done.stderr
    (whole,) = _samples(tmp_path / "whole", "instructions.run")
    assert whole > 7 * each[0]  # the loader, libc and main besides
    done = wrapper(tmp_path / "per", "--per-call", "work", "--", prog, 7, 500)
    (per,) = _samples(tmp_path / "per", "instructions.work")
    assert per == pytest.approx(whole / 7)


@pytest.mark.spawns
@needs_valgrind
def test_failures_say_why(wrapper, compile_c, tmp_path):
    prog = compile_c("fixed_work.c")
    done = wrapper(tmp_path / "a", "--toggle", "no_such_function", "--", prog, 2, 10)
    assert done.returncode == 1 and "no call of 'no_such_function'" in done.stderr
    done = wrapper(tmp_path / "b", "--", prog)  # its usage: exit 2
    assert done.returncode == 1 and "exited 2" in done.stderr
    for args, says in ((["--pid", str(os.getpid())], "cannot attach"),
                       (["--each-call", "--", prog, 1, 1], "needs --toggle"),
                       (["--repeat", "0", "--", prog, 1, 1], "--repeat"),
                       (["--preset", "nope"], "--preset"),
                       (["--preset", "wal", "--toggle", "x"], "sets what is counted"),
                       (["--frobnicate", "--", prog], "unknown option")):
        done = wrapper(tmp_path / "c", *args)
        assert done.returncode == 2 and says in done.stderr, (args, done.stderr)


@pytest.mark.spawns
@needs_valgrind
def test_stopped_after_seconds_keeps_what_ran(wrapper, compile_c, tmp_path):
    prog = compile_c("fixed_work.c")
    done = wrapper(tmp_path, "--toggle", "work", "-d", "2", "--",
                    prog, 10**12, 1000)
    assert done.returncode == 0, done.stderr
    assert "stopped after 2 s (--seconds)" in done.stdout
    (per_call,) = _samples(tmp_path, "instructions.work")
    assert per_call == pytest.approx(5000, rel=0.01)  # ~5 instructions a step, as above


@pytest.mark.slow
@pytest.mark.spawns
@needs_valgrind
def test_wal_preset_end_to_end(wrapper, bin_dir, tmp_path):
    done = wrapper(tmp_path, "--preset", "wal", "--repeat", "2",
                    env={"PROCMOND_BUILD_DIR": str(bin_dir.parent)})
    assert done.returncode == 0, done.stderr
    a, b = _samples(tmp_path, "instructions.wal_event")
    assert 500 < a < 20000  # a 200-byte record's CRC, header and iovec: about 2,300 here
    assert abs(a - b) / a < 0.001
    assert "user space only" in (tmp_path / "summary.md").read_text()
    files = json.loads((tmp_path / "files.json").read_text())
    assert any(f["kind"] == "callgrind" and (tmp_path / f["path"]).exists() for f in files)
