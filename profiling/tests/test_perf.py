"""profiling/perf.sh end to end, on programs/hot_function.c, whose hottest
function is known by construction (burn_hot about 80 % of the CPU,
burn_cold about 20 %): a program from its start, a running process by pid,
DWARF call graphs, a stop by SIGTERM and by a Ctrl-C, the user nobody under this machine's
perf_event_paranoid, and the wrapper's refusals (bad arguments, perf
missing, another user's process)."""
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import pytest

from perfkit import runfile
from perfkit.importers.generic import from_metrics_json
from perfkit.profiles import folded, perf_stat

PROFILING = Path(__file__).resolve().parents[1]
PERF_SH = PROFILING / "perf.sh"
SVG = "{http://www.w3.org/2000/svg}"

needs_perf = pytest.mark.skipif(shutil.which("perf") is None,
                                reason="perf is not installed (apt-get install linux-perf)")


def run_perf_sh(*args, timeout=120, **kw):
    return subprocess.run(["bash", str(PERF_SH), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def hot(compile_c):
    return compile_c("hot_function.c")


def leaf_shares(out):
    stacks = folded.read((out / "stacks.folded").read_text().splitlines())
    self_, _ = folded.shares(stacks)
    return self_, folded.total(stacks)


def svg_frames(path):
    root = ET.parse(path).getroot()
    frames = []
    for g in root.iter(SVG + "g"):
        if g.get("class") == "f":
            t = g.find(SVG + "title").text
            frames.append({"name": t[: t.rindex(" (")], "s": float(g.get("data-s")),
                           "n": float(g.get("data-n")), "d": int(g.get("data-d")),
                           "width": float(g.find(SVG + "rect").get("width"))})
    return root, frames


def self_samples(frames):
    """A frame's samples less its drawn callees': > 0 for a frame that ends stacks."""
    out = []
    for f in frames:
        kids = sum(g["n"] for g in frames
                   if g["d"] == f["d"] + 1 and f["s"] <= g["s"] < f["s"] + f["n"])
        out.append(f["n"] - kids)
    return out


def probe_counters():
    r = subprocess.run(["perf", "stat", "-x,", "-e", ",".join(perf_stat.EVENTS), "true"],
                       capture_output=True, text=True)
    return {c.event: c.status for c in perf_stat.parse(r.stderr)}


@needs_perf
@pytest.mark.slow
def test_a_program_from_start_to_end(hot, tmp_path):
    out = tmp_path / "prof"
    r = run_perf_sh("-o", out, "--prefix", "hot", "--", hot, "1.5")
    assert r.returncode == 0, r.stderr
    for name in ("perf.data", "stacks.folded", "flamegraph.svg", "metrics.json", "files.json",
                 "summary.md", "stat.csv", "plan.json"):
        assert (out / name).is_file(), name
    assert r.stdout.endswith((out / "summary.md").read_text())

    # burn_hot takes the largest self share, about 4 parts in 5 of burn_hot + burn_cold
    self_, total = leaf_shares(out)
    assert folded.top(self_, 1)[0][0] == "burn_hot"
    hot_share = self_["burn_hot"] / total
    cold_share = self_["burn_cold"] / total
    assert 0.6 <= hot_share <= 0.95, (hot_share, cold_share)
    assert 0.1 <= cold_share <= 0.35, (hot_share, cold_share)
    assert 0.6 <= self_["burn_hot"] / (self_["burn_hot"] + self_["burn_cold"]) <= 0.95
    stacks = (out / "stacks.folded").read_text()
    # frame pointers walk back through main (the program is built with them)
    assert f"{hot.name};__libc_start_call_main;main;burn_hot " in stacks

    # the SVG: XML, burn_hot the widest of the frames that end stacks, its script there
    root, frames = svg_frames(out / "flamegraph.svg")
    selfs = self_samples(frames)
    leaves = [f for f, s in zip(frames, selfs) if s > 0 and f["d"] > 1]
    widest = max(leaves, key=lambda f: f["width"])
    assert widest["name"] == "burn_hot"
    script = root.find(SVG + "script").text
    assert "function zoom" in script and "function setSearch" in script

    # metrics: valid, prefixed, cpu.samples = the samples folded, counters as the machine has them
    doc = json.loads((out / "metrics.json").read_text())
    metrics = from_metrics_json(doc)
    runfile.validate_metrics(metrics)
    names = {m["name"]: m for m in metrics}
    assert names["hot.cpu.samples"]["samples"] == [total]
    have = probe_counters()
    for event, (metric, _) in perf_stat.METRICS.items():
        if event in perf_stat.EVENTS:
            assert (f"hot.{metric}" in names) == (have.get(event) == perf_stat.COUNTED), event
    if have.get("instructions") == perf_stat.NOT_SUPPORTED:
        assert "left out instructions: not supported here" in r.stderr
        assert "instructions: not supported here" in (out / "summary.md").read_text()
    if "hot.cpu.task_clock_ms" in names:
        # the counters are of the program, not of perf: about the CPU sampled
        ms = names["hot.cpu.task_clock_ms"]["samples"][0]
        assert 0.7 <= ms / (total * 1000 / 999) <= 1.3
    files = json.loads((out / "files.json").read_text())
    assert {"kind": "flamegraph", "path": "flamegraph.svg",
            "title": "perf flame graph (CPU)"} in files
    summary = (out / "summary.md").read_text()
    assert "| 1 | `burn_hot` |" in summary
    assert "The program exited with status 0." in summary


@needs_perf
@pytest.mark.slow
def test_a_running_process_by_pid(hot, tmp_path, spawn):
    proc = spawn([str(hot), "0"], stdout=subprocess.DEVNULL)
    out = tmp_path / "prof"
    started = time.monotonic()
    r = run_perf_sh("-o", out, "--pid", proc.pid, "--seconds", "2")
    assert r.returncode == 0, r.stderr
    assert proc.poll() is None  # attached, not killed
    self_, total = leaf_shares(out)
    assert total > 100
    assert folded.top(self_, 1)[0][0] == "burn_hot"
    assert 0.6 <= self_["burn_hot"] / (self_["burn_hot"] + self_["burn_cold"]) <= 0.95
    summary = (out / "summary.md").read_text()
    assert f"# perf: process {proc.pid} (hot_function)" in summary
    assert "exited with status" not in summary
    assert time.monotonic() - started < 60


@needs_perf
@pytest.mark.slow
def test_dwarf_call_graphs(hot, tmp_path):
    out = tmp_path / "prof"
    r = run_perf_sh("-o", out, "--call-graph", "dwarf", "-F", "199", "--", hot, "0.5")
    assert r.returncode == 0, r.stderr
    stacks = (out / "stacks.folded").read_text()
    assert ";main;burn_hot " in stacks
    assert "call graphs by DWARF" in (out / "summary.md").read_text()


@needs_perf
@pytest.mark.slow
def test_sigterm_stops_writes_and_leaves_nothing(hot, tmp_path):
    out = tmp_path / "prof"
    wrapper = subprocess.Popen(["bash", str(PERF_SH), "-o", str(out), "--", str(hot), "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        kids = []
        while time.monotonic() < deadline:
            kids = psutil.Process(wrapper.pid).children(recursive=True)
            if any(k.name() == "hot_function" for k in kids) and (out / "perf-record.log").exists():
                break
            time.sleep(0.2)
        time.sleep(1.5)  # let it sample a while
        kids = psutil.Process(wrapper.pid).children(recursive=True)
        wrapper.send_signal(signal.SIGTERM)
        stdout, stderr = wrapper.communicate(timeout=60)
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
            wrapper.wait()
    assert wrapper.returncode == 0, stderr
    assert "# perf:" in stdout
    self_, total = leaf_shares(out)
    assert total > 100 and folded.top(self_, 1)[0][0] == "burn_hot"
    _, still = psutil.wait_procs(kids, timeout=10)
    assert not still, [p.pid for p in still]  # the program and both perfs are gone


@needs_perf
@pytest.mark.slow
def test_ctrl_c_to_the_process_group(hot, tmp_path):
    """A terminal's Ctrl-C: SIGINT to every process of the group (the wrapper
    in a session of its own here), CMD included."""
    out = tmp_path / "prof"
    wrapper = subprocess.Popen(["bash", str(PERF_SH), "-o", str(out), "--", str(hot), "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (out / "perf-record.log").exists():
            time.sleep(0.2)
        time.sleep(2.5)
        kids = psutil.Process(wrapper.pid).children(recursive=True)
        os.killpg(wrapper.pid, signal.SIGINT)
        stdout, stderr = wrapper.communicate(timeout=60)
    finally:
        if wrapper.poll() is None:
            os.killpg(wrapper.pid, signal.SIGKILL)
            wrapper.wait()
    assert wrapper.returncode == 0, stderr
    self_, total = leaf_shares(out)
    assert total > 100 and folded.top(self_, 1)[0][0] == "burn_hot"
    assert "task-clock" in (out / "stat.csv").read_text()  # perf stat wrote on SIGINT
    # 130: Ctrl-C ended it; bash's wait at times loses that status, and then
    # the summary says nothing of it rather than something false.
    exited = [line for line in stdout.splitlines() if "The program exited" in line]
    assert exited in (["The program exited with status 130."], []), exited
    assert exited or "its exit status was lost" in stderr, stderr
    _, still = psutil.wait_procs(kids, timeout=10)
    assert not still, [p.pid for p in still]


@needs_perf
def test_bad_arguments_and_help(tmp_path, hot):
    r = run_perf_sh("--help")
    assert r.returncode == 0 and "--call-graph" in r.stdout and "--freq" in r.stdout
    for args, message in [(["--freq", "abc", "--", hot], "--freq"),
                          (["--call-graph", "lbr", "--", hot], "--call-graph"),
                          (["--event", "a b", "--", hot], "--event"),
                          (["--bogus", "--", hot], "unknown option"),
                          (["-F", "100000000", "--", hot], "perf_event_max_sample_rate"),
                          (["-e", "bogus", "--", hot], "perf does not know it"),
                          ([], "nothing to profile"),
                          (["--pid", "1", "--", hot], "not both")]:
        r = run_perf_sh("-o", tmp_path / "x", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_perf_missing(tmp_path, hot):
    # A PATH with what the wrapper runs before it looks for perf, and no perf.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "mkdir", "basename"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    r = subprocess.run([str(bin_dir / "bash"), str(PERF_SH), "-o", str(tmp_path / "x"), "--",
                        str(hot)], capture_output=True, text=True, env={"PATH": str(bin_dir)})
    assert r.returncode == 2
    assert r.stderr.strip() == ("perf.sh: perf is not installed: apt-get install linux-perf "
                                "(ci/install-deps.sh installs it)")


@needs_perf
@pytest.mark.slow
def test_a_program_that_cannot_start(tmp_path):
    r = run_perf_sh("-o", tmp_path / "x", "--", tmp_path / "no-such-program")
    assert r.returncode == 1
    assert "exited with status 127" in r.stderr


@pytest.fixture
def open_dir():
    """A directory the user nobody may enter (pytest's tmp_path is root's
    alone), removed after. Not /tmp/perf-*: perf takes whatever lies there
    for a JIT's symbol map (/tmp/perf-PID.map) and reads no ELF symbols."""
    d = Path(tempfile.mkdtemp(prefix="wrapper-nobody-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def as_nobody(open_dir, hot, *args):
    """perf.sh run as nobody from a copy of the checkout's profiling/ and
    harness/perfkit in a world-readable directory."""
    repo = open_dir / "repo"
    shutil.copytree(PROFILING, repo / "profiling", ignore=shutil.ignore_patterns("tests"))
    shutil.copytree(PROFILING.parent / "harness" / "perfkit", repo / "harness" / "perfkit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    prog = open_dir / "hot_function"
    shutil.copy(hot, prog)
    out = open_dir / "out"
    out.mkdir()
    for p in [repo, *repo.rglob("*"), prog]:
        p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() or
                                                   p.stat().st_mode & stat.S_IXUSR else 0))
    out.chmod(0o777)
    cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
           "env", f"HOME={open_dir}", "PATH=/usr/bin:/bin",
           "bash", str(repo / "profiling" / "perf.sh"), "-o", str(out / "prof"), *map(str, args)]
    return out / "prof", subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                                        cwd=open_dir)


def paranoid():
    return int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())


@needs_perf
@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")
def test_nobody_profiles_its_own_program(open_dir, hot):
    """What this machine's perf_event_paranoid lets an ordinary user do (the
    decisions for every other value are perf_plan's, tested on their own in
    test_perf_stat.py: changing the sysctl here would change it for the
    whole machine)."""
    level = paranoid()
    out, r = as_nobody(open_dir, hot, "--", open_dir / "hot_function", "1")
    if level >= 3:
        # Debian's patch: nothing for non-root; the line says how to allow it.
        assert r.returncode == 2
        assert "sysctl kernel.perf_event_paranoid=1" in r.stderr
        return
    assert r.returncode == 0, r.stderr
    self_, total = leaf_shares(out)
    assert folded.top(self_, 1)[0][0] == "burn_hot"
    stacks = (out / "stacks.folded").read_text()
    summary = (out / "summary.md").read_text()
    if level == 2:
        assert "user space only: kernel.perf_event_paranoid is 2" in r.stderr
        assert "sysctl kernel.perf_event_paranoid=1" in r.stderr
        assert "user space only" in summary
        assert "_[k]" not in stacks
        names = {m["name"] for m in json.loads((out / "metrics.json").read_text())["metrics"]}
        assert "cpu.context_switches" not in names  # they read 0 in user space: left out
        assert "context-switches: user space only" in summary


@needs_perf
@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")
def test_nobody_may_not_profile_roots_process(open_dir, hot, spawn):
    proc = spawn([str(hot), "0"], stdout=subprocess.DEVNULL)
    _, r = as_nobody(open_dir, hot, "--pid", proc.pid, "--seconds", "1")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "belongs to another user" in lines[0] and "run as root" in lines[0]
    assert proc.poll() is None
