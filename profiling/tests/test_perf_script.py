"""perfkit.profiles.perf_script (perf script text -> folded stacks) and
perfkit.profiles.folded, on real perf script output captured on this
project's VM (data/perf-script-*.txt, perf 6.1, fields comm,pid,tid,time,
period,event,ip,sym,dso with --show-task-events, as perf.sh asks):

- threads: mt.c-like program, a thread named "mt worker 1" and a forked
  child, frame pointers, its first 62 samples;
- cxx-dwarf: a C++ program at -O2 under --call-graph dwarf: templates,
  (anonymous namespace), std::function<void (unsigned long)>, inlined frames;
- unknown: a stripped binary without a build id: [unknown] symbols;
- hot: perf.sh's own run of hot_function.c (kernel frames, the exec from
  perf.sh's launcher), the first samples and those with kernel frames."""
import io
from pathlib import Path

import pytest

from perfkit.profiles import folded, perf_script

DATA = Path(__file__).resolve().parent / "data"


def fold_file(name):
    with open(DATA / name) as f:
        return perf_script.fold(f)


def test_threads_and_processes_fold_under_the_process_name():
    r = fold_file("perf-script-threads.txt")
    assert r.event == "cpu-clock"
    assert r.samples == folded.total(r.stacks) == 62
    assert r.lines_skipped == 0 and not r.other_events
    roots = {s.split(";")[0] for s in r.stacks}
    assert roots == {"mt"}  # the main thread, the named thread and the forked child
    worker = {s: n for s, n in r.stacks.items() if "spin_worker" in s}
    # The thread keeps its own name one level below its process's.
    assert worker and all(s.startswith("mt;thread:mt worker 1;start_thread;spin_worker")
                          for s in worker)
    # The forked child (a process of its own, same name) has no thread frame.
    child = [s for s in r.stacks if "child_work" in s]
    assert child and all(s.startswith("mt;__libc_start_call_main;child_work") for s in child)
    main = sum(n for s, n in r.stacks.items() if s.split(";")[-1] == "main")
    assert main == 15


def test_cxx_names_inlined_frames_and_order():
    r = fold_file("perf-script-cxx-dwarf.txt")
    assert r.samples == 12
    vec = [s for s in r.stacks if "Burner<std::vector" in s]
    assert len(vec) == 1
    frames = vec[0].split(";")
    assert frames == [
        "odd", "_start", "__libc_start_main_impl_[i]", "__libc_start_call_main", "main",
        "ns::inner::run", "std::function<void (unsigned long)>::operator()_[i]",
        "operator()_[i]",
        "(anonymous namespace)::Burner<std::vector<int, std::allocator<int> >, 2>::operator()"]
    assert r.stacks[vec[0]] == 4
    assert folded.kind(frames[2], 2) == folded.INLINED
    assert folded.kind(frames[-1], 8) == folded.USER


def test_unknown_symbols_are_named_by_their_object():
    r = fold_file("perf-script-unknown.txt")
    assert dict(r.stacks) == {"hotnosym;__libc_start_call_main;[hotnosym];[hotnosym]": 9}
    assert folded.kind("[hotnosym]", 3) == folded.UNKNOWN


def test_kernel_frames_and_the_launchers_exec():
    r = fold_file("perf-script-hot.txt")
    assert r.samples == 27
    kernel = [s for s in r.stacks if "_[k]" in s]
    assert len(kernel) == 7
    execve = [s for s in r.stacks if "__x64_sys_execve_[k]" in s]
    # The exec of perf.sh's held launcher: already under the program's name.
    assert execve and all(s.startswith("hot;__GI___execve;entry_SYSCALL_64") for s in execve)
    self_, incl = folded.shares(r.stacks)
    assert folded.top(self_, 1) == [("burn_hot", 15)]
    assert incl["main"] == 24 and incl["burn_hot"] == 17
    assert "hot" not in incl  # the process is not a function


@pytest.mark.parametrize("raw, name", [
    ("ns::f<int>(int, char const*) const", "ns::f<int>"),
    ("foo(int)", "foo"),
    ("foo()", "foo"),
    ("S::operator()", "S::operator()"),
    ("S::operator()(int) const", "S::operator()"),
    ("(anonymous namespace)::Burner<int, 1>::operator()", "(anonymous namespace)::Burner<int, 1>::operator()"),
    ("std::function<void (unsigned long)>::operator()", "std::function<void (unsigned long)>::operator()"),
    ("main::{lambda(unsigned long)#1}::operator()", "main::{lambda(unsigned long)#1}::operator()"),
    ("std::vector<int>::push_back(int&&) &", "std::vector<int>::push_back"),
    ("operator new(unsigned long)", "operator new"),
    ("burn_hot+0x26", "burn_hot"),
    ("a;b", "a:b"),
    ("net/http.(*Client).Do", "net/http.(*Client).Do"),
])
def test_odd_names(raw, name):
    assert perf_script.tidy_symbol(raw) == name


@pytest.mark.parametrize("addr, sym, obj, name", [
    ("ffffffff8223c3bd", "__put_user_8", "[kernel.kallsyms]", "__put_user_8_[k]"),
    ("ffffffffc0a1b2c3", "nf_hook_slow", "[nf_conntrack]", "nf_hook_slow_[k]"),
    ("8c3453", "tcp_sendmsg", "/lib/modules/6.1/build/vmlinux", "tcp_sendmsg_[k]"),
    ("7ffd1234", "__vdso_clock_gettime", "[vdso]", "__vdso_clock_gettime"),
    ("7f722d142778", "Interpreter::run", "/tmp/perf-19982.map", "Interpreter::run_[j]"),
    ("12e9", "operator()+0x29", "inlined", "operator()_[i]"),
    ("11ba", "[unknown]", "/tmp/perfexp/hotnosym", "[hotnosym]"),
    ("0", "[unknown]", "[unknown]", "[unknown]"),
    ("ffffffff81000000", "[unknown]", "[kernel.kallsyms]", "[kernel.kallsyms]"),
])
def test_frame_kinds(addr, sym, obj, name):
    assert perf_script.frame_name(addr, sym, obj) == name


def test_headers_with_odd_names_no_pid_cpu_and_no_call_graph():
    text = (
        # comm with spaces and a number, [cpu], user-only event
        "V8 WorkerThread 2 24636/25607 [000] 94564.109216:    100 cycles:u: \n"
        "\t  11c4 spin (/bin/x)\n\n"
        # a comm that reads as hex, and no pid (perf script's default fields)
        "add 777 6544038.708352: 235 cycles:u: \n"
        "\t  11c4 spin (/bin/x)\n\n"
        # no call graph: perf right-aligns the comm and puts the frame on the line
        "             hot 26229/26229 23161.670942:   10101010 cycles:u:      55e1a871e1c0 "
        "burn_hot (/tmp/hot)\n"
        "             hot 26229/26229 23161.700391:   10101010 cycles:u:      55e1a871e204 "
        "burn_cold (/tmp/hot)\n"
        # another event: left out, counted
        "hot 26229/26229 23161.8: 1 page-faults:u: \n\t  11c4 spin (/bin/x)\n\n")
    r = perf_script.fold(io.StringIO(text))
    assert r.event == "cycles:u"
    assert dict(r.other_events) == {"page-faults:u": 1}
    assert dict(r.stacks) == {
        "V8 WorkerThread 2;spin": 1,  # its process never named: the thread stands for it
        "add;spin": 1, "hot;burn_hot": 1, "hot;burn_cold": 1}


def test_folded_round_trip_is_sorted_and_stable():
    r = fold_file("perf-script-threads.txt")
    out = io.StringIO()
    folded.write(r.stacks, out)
    text = out.getvalue()
    assert text.splitlines() == sorted(text.splitlines())
    assert folded.read(io.StringIO(text)) == r.stacks
    assert folded.looks_folded(text.splitlines()[:5])
    with open(DATA / "perf-script-threads.txt") as f:
        assert not folded.looks_folded([next(f) for _ in range(5)])


def test_folded_bad_line_is_named():
    with pytest.raises(folded.FoldedFormatError, match="x.folded:2"):
        folded.read(io.StringIO("a;b 3\nno count here\n"), "x.folded")


def test_shares_count_recursion_once():
    stacks = {"p;main;f;f;f": 6, "p;main;g": 4, "p;thread:io;h": 2}
    self_, incl = folded.shares(stacks)
    assert self_ == {"f": 6, "g": 4, "h": 2}
    assert incl == {"main": 10, "f": 6, "g": 4, "h": 2}
