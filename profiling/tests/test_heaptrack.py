"""profiling/heaptrack.sh end to end: programs with known heaps
(programs/heap_known.c, heap_ticker.c) recorded from their start, attached
to for --seconds or until SIGTERM; what it measures, and that it leaves no
process and no fifo behind."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from perfkit import runfile
from perfkit.importers.generic import from_metrics_json
from perfkit.profiles import heaptrack

MiB = 2**20
# heap_known.c's answers.
PEAK = 64 * MiB
LEAKED = 10 * 100_000
CALLS = 64 + 10 + 1000
TEMPORARY = 1000
# heaptrack's preload library links libstdc++, whose emergency exception
# pool (72,704 B here) is allocated at start and freed at exit: one more
# allocation, one more temporary one, and part of the peak, in a C program.
LIBSTDCXX_POOL_MAX = 100_000

needs_heaptrack = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("heaptrack", "heaptrack_print", "gdb")),
    reason="needs heaptrack and gdb (ci/install-deps.sh installs them)")


@pytest.fixture(scope="module")
def wrapper(profiling_dir):
    return profiling_dir / "heaptrack.sh"


def metrics_of(out):
    doc = json.loads((out / "metrics.json").read_text())
    runfile.validate_metrics(doc["metrics"])
    from_metrics_json(doc)
    return {m["name"]: m["samples"][0] for m in doc["metrics"]}


def sites(out, section):
    return heaptrack.parse((out / "heaptrack_print.txt").read_text()).sections[section]


class Descendants:
    """Every process below `root` while it runs, seen every 50 ms: pid ->
    (create time, the names it had: a child of a shell is named after the
    shell until it execs); afterwards, which of them still live."""

    def __init__(self, root):
        self.root, self.seen = root, {}
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        try:
            root = psutil.Process(self.root)
            while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
                for p in root.children(recursive=True):
                    try:
                        self.seen.setdefault(p.pid, (p.create_time(), set()))[1].add(p.name())
                    except psutil.NoSuchProcess:
                        pass
                time.sleep(0.05)
        except psutil.NoSuchProcess:
            pass

    def names(self):
        return set().union(*(names for _, names in self.seen.values()))

    def alive(self):
        out = []
        for pid, (created, names) in self.seen.items():
            try:
                p = psutil.Process(pid)
                if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                    out.append((pid, sorted(names)))
            except psutil.NoSuchProcess:
                pass
        return out

    def fifos(self):
        return [f"/tmp/heaptrack_fifo{pid}" for pid in self.seen
                if os.path.exists(f"/tmp/heaptrack_fifo{pid}")]


def assert_nothing_left(run, wrapper_proc, saw=("heaptrack_interpret",)):
    wrapper_proc.wait(timeout=5)
    run.thread.join(timeout=5)
    assert set(saw) <= run.names()  # so the checks below saw the run
    assert run.alive() == []
    assert run.fifos() == []


@needs_heaptrack
@pytest.mark.slow
def test_a_program_from_start_to_end_gives_its_known_heap(wrapper, compile_c, tmp_path):
    program = compile_c("heap_known.c")
    out = tmp_path / "profile"
    done = subprocess.run([str(wrapper), "-o", str(out), "--prefix", "known", "--", str(program)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    m = metrics_of(out)
    # Exact: the sums of heaptrack_print's per-stack costs.
    assert m["known.heap.leaked_bytes"] == LEAKED
    assert PEAK <= m["known.heap.peak_bytes"] <= PEAK + LIBSTDCXX_POOL_MAX
    assert CALLS <= m["known.heap.allocations"] <= CALLS + 5
    assert TEMPORARY <= m["known.heap.temporary_allocations"] <= TEMPORARY + 5
    # The 64 MiB were touched, so they were resident too (heaptrack's own
    # memory comes on top).
    assert m["known.heap.peak_rss_bytes"] >= PEAK
    # The program's own sites, exactly.
    peak_stacks = heaptrack.parse_stacks((out / "peak.stacks").read_text())
    assert [c for frames, c in peak_stacks if any("peak_blocks" in f for f in frames)] == [PEAK]
    (ours,) = [s for s in sites(out, "allocations") if s.frames[0].function == "must_malloc"]
    assert ours.values["calls"] == CALLS
    top_leak = sites(out, "leaked")[0]
    assert top_leak.values["leaked"].bytes == LEAKED
    assert top_leak.traces[0].frames[0].function == "leak_blocks"
    (temporary,) = [t for s in sites(out, "temporary") for t in s.traces
                    if t.frames[0].function == "temporary_allocations"]
    assert temporary.values["temporary"] == TEMPORARY

    summary = (out / "summary.md").read_text()
    assert done.stdout == summary
    assert "`leak_blocks` heap_known.c" in summary and "never freed" in summary
    files = json.loads((out / "files.json").read_text())
    assert sorted(f["kind"] for f in files) == ["flamegraph", "flamegraph", "heaptrack", "summary"]
    assert all((out / f["path"]).is_file() for f in files)
    # The flame graphs' input: folded stacks of the bytes held at the peak.
    folded = (out / "peak.folded").read_text().splitlines()
    assert (f"{program.name};main (heap_known.c);peak_blocks (heap_known.c);"
            f"must_malloc (heap_known.c) {PEAK}") in folded
    svg = (out / "flamegraph-peak.svg").read_text()
    assert svg.startswith("<?xml")
    # Its widths are bytes, and its tooltips say so (67,108,864 B: 67.1 MB).
    assert "<title>peak_blocks (heap_known.c) (67.1 MB, " in svg and 'data-of="bytes"' in svg
    status = json.loads((out / "record.json").read_text())
    assert status["mode"] == "command" and status["stopped"] is False
    assert status["exit_status"] == 0


def start_ticker(spawn, compile_c, seconds=60):
    """heap_ticker running, its pid known once it said "ready"."""
    ticker = spawn([str(compile_c("heap_ticker.c")), str(seconds)], stdout=subprocess.PIPE,
                   text=True)
    assert ticker.stdout.readline().strip() == "ready"
    return ticker


def attach(wrapper, compile_c, spawn, out, *options, tries=3):
    """The wrapper attached to a fresh heap_ticker: (ticker, wrapper's Popen,
    Descendants) once it records (OUT/recording, what the scenario runner
    waits for). heaptrack warns that attaching "can lead to CRASHES": its
    gdb runs dlopen and heaptrack_inject inside the ticker, wherever gdb
    stopped it, and once in CI the ticker aborted there ("malloc assertion
    failure in sysmalloc"). The wrapper must then fail cleanly and say why:
    that is checked, and a fresh ticker tried."""
    for attempt in range(1, tries + 1):
        ticker = start_ticker(spawn, compile_c)
        proc = spawn([str(wrapper), "-o", str(out), "--pid", str(ticker.pid), *options],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        run = Descendants(proc.pid)
        deadline = time.monotonic() + 60
        while not (out / "recording").exists():
            if proc.poll() is not None:
                break
            assert time.monotonic() < deadline, "heaptrack never attached"
            time.sleep(0.05)
        else:
            return ticker, proc, run
        assert_the_injection_killed(ticker, proc, run, saw=("gdb",))
        print(f"attempt {attempt}: the ticker died of the injection (signal {-ticker.returncode})")
    pytest.fail(f"the ticker died of heaptrack's injection {tries} times running")


def assert_the_injection_killed(ticker, proc, run, saw):
    """The target died while heaptrack attached: the wrapper fails, says so
    in one line, and leaves nothing behind."""
    stdout, stderr = proc.communicate(timeout=120)
    try:
        died = ticker.wait(timeout=10) != 0
    except subprocess.TimeoutExpired:
        died = False
    assert died, f"the wrapper failed while its target lived: {stderr}"
    assert proc.returncode == 1 and stdout == "", stderr
    assert f"process {ticker.pid} ended while heaptrack attached to it" in stderr
    assert_nothing_left(run, proc, saw=saw)


def injected(pid):
    try:
        return "libheaptrack_inject" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def check_attached_profile(out, ticker):
    summary = (out / "summary.md").read_text()
    assert f"attached to the running process {ticker.pid}" in summary
    assert "still allocated when heaptrack detached" in summary
    m = metrics_of(out)
    # A tick every 10 ms for 3 s (--seconds counts from the injection's end),
    # or 2 s before the SIGTERM: a hundred ticks or more.
    assert m["heap.allocations"] >= 100
    assert m["heap.leaked_bytes"] > 0
    assert sites(out, "allocations")[0].frames[0].function == "tick_allocate"
    status = json.loads((out / "record.json").read_text())
    assert status == {**status, "mode": "attach", "pid": ticker.pid, "stopped": True}
    assert (out / "recording").exists()
    # The process lives on after the detach.
    assert ticker.poll() is None


@needs_heaptrack
@pytest.mark.slow
@pytest.mark.spawns
def test_attach_for_some_seconds(wrapper, compile_c, spawn, tmp_path):
    out = tmp_path / "profile"
    ticker, proc, run = attach(wrapper, compile_c, spawn, out, "--seconds", "3")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert stdout == (out / "summary.md").read_text()
    check_attached_profile(out, ticker)
    assert_nothing_left(run, proc, saw=("heaptrack_interpret", "gdb"))


@needs_heaptrack
@pytest.mark.slow
@pytest.mark.spawns
def test_attach_until_sigterm(wrapper, compile_c, spawn, tmp_path):
    out = tmp_path / "profile"
    ticker, proc, run = attach(wrapper, compile_c, spawn, out)
    assert injected(ticker.pid)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    check_attached_profile(out, ticker)
    assert_nothing_left(run, proc, saw=("heaptrack_interpret", "gdb"))


@needs_heaptrack
@pytest.mark.slow
@pytest.mark.spawns
def test_a_program_stopped_by_sigterm(wrapper, compile_c, spawn, tmp_path):
    program = compile_c("heap_ticker.c")
    out = tmp_path / "profile"
    proc = spawn([str(wrapper), "-o", str(out), "--", str(program), "60"],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = Descendants(proc.pid)
    deadline = time.monotonic() + 60
    # The wrapper says it records once the program runs with heaptrack's
    # library; the watcher sees it within its next look.
    while not ((out / "recording").exists() and "heap_ticker" in run.names()):
        assert proc.poll() is None and time.monotonic() < deadline, "the program never started"
        time.sleep(0.05)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    status = json.loads((out / "record.json").read_text())
    assert status["stopped"] is True and status["exit_status"] == 128 + signal.SIGTERM
    summary = (out / "summary.md").read_text()
    assert "still allocated when it was stopped" in summary
    assert metrics_of(out)["heap.allocations"] > 0
    assert_nothing_left(run, proc)


@pytest.mark.parametrize("args, said", [
    ([], "nothing to profile"),
    (["--top", "0", "--", "true"], "--top"),
    (["--pid", "1", "--", "true"], "not both"),
    (["--frobnicate", "--", "true"], "unknown option"),
    (["-o", "{tmp}/with space", "--", "true"], "without blanks"),
    (["--", "{tmp}/no-such-program"], "no program"),
])
def test_bad_arguments_exit_2_with_one_line(wrapper, tmp_path, args, said):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    done = subprocess.run([str(wrapper), *args], capture_output=True, text=True, timeout=30,
                          cwd=tmp_path)
    assert done.returncode == 2
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_help_says_what_leaked_means_when_attached(wrapper):
    done = subprocess.run([str(wrapper), "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert "STILL ALLOCATED WHEN HEAPTRACK DETACHED" in done.stdout
    for metric in ("heap.peak_bytes", "heap.peak_rss_bytes", "heap.allocations",
                   "heap.temporary_allocations", "heap.leaked_bytes"):
        assert metric in done.stdout


@needs_heaptrack
@pytest.mark.slow
@pytest.mark.spawns
def test_a_process_the_injection_kills_fails_the_run_and_leaves_nothing(wrapper, compile_c, spawn,
                                                                       tmp_path):
    # Statically linked, heap_ticker has no dynamic loader for heaptrack's
    # library: the injection crashes it (heaptrack warns that attaching may).
    try:
        static = compile_c("heap_ticker.c", "-static")
    except subprocess.CalledProcessError:
        pytest.skip("cannot link statically (libc6-dev's libc.a)")
    ticker = spawn([str(static), "60"], stdout=subprocess.PIPE, text=True)
    assert ticker.stdout.readline().strip() == "ready"
    out = tmp_path / "profile"
    proc = spawn([str(wrapper), "-o", str(out), "--pid", str(ticker.pid), "--seconds", "30"],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = Descendants(proc.pid)
    # Its interpreter never started: the shell's fork of it waited to open
    # the fifo, under heaptrack's name.
    assert_the_injection_killed(ticker, proc, run, saw=("gdb", "heaptrack"))
    assert not (out / "metrics.json").exists()


# The recorder's own logic, with a stand-in for heaptrack's script: quick.

FAKE_HEAPTRACK = """#!/bin/sh
# heaptrack -o BASE -- CMD...: runs CMD as the script does (the fifo's name in
# its environment), then writes BASE.zst.
base=$2; shift 3
DUMP_HEAPTRACK_OUTPUT=/tmp/not-a-fifo "$@"
code=$?
echo recorded > "$base.zst"
exit $code
"""


def fake_heaptrack(tmp_path, text=FAKE_HEAPTRACK):
    fake = tmp_path / "heaptrack"
    fake.write_text(text)
    fake.chmod(0o755)
    return str(fake)


def test_recorder_stops_the_program_not_the_script(tmp_path):
    from perfkit.profiles import heaptrack_record
    ready = tmp_path / "recording"

    def stop_when_ready():
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)  # caught by record() while it runs

    threading.Thread(target=stop_when_ready, daemon=True).start()
    result = heaptrack_record.record(tmp_path / "heaptrack.sleep", command=["sleep", "60"],
                                     ready=ready, heaptrack=fake_heaptrack(tmp_path))
    assert result.stopped and result.exit_status == 128 + signal.SIGTERM
    assert result.mode == "command" and result.file.endswith("heaptrack.sleep.zst")
    assert not psutil.pid_exists(result.pid) or psutil.Process(result.pid).name() != "sleep"


def test_recorder_fails_when_heaptrack_writes_nothing(tmp_path):
    from perfkit.profiles import heaptrack_record
    fake = fake_heaptrack(tmp_path, "#!/bin/sh\necho 'Error: no way' >&2\nexit 1\n")
    with pytest.raises(heaptrack_record.RecordError, match=r"wrote no recording \(exit 1"):
        heaptrack_record.record(tmp_path / "heaptrack.x", command=["true"], heaptrack=fake)


def test_recorder_refuses_a_path_heaptracks_script_would_split(tmp_path):
    from perfkit.profiles import heaptrack_record
    with pytest.raises(heaptrack_record.RecordError, match="cannot write to a path"):
        heaptrack_record.record(tmp_path / "a b" / "heaptrack.x", command=["true"])
