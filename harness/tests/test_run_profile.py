"""A phase's `profile` (and `perfkit run --profile PHASE=TOOL`): the runner
attaches profiling/<tool>.sh to the SUT for that phase, and its metrics and
files come into the run. A stand-in wrapper (PERFKIT_PROFILING_DIR) plays the
profiler here, so these tests are about the runner's side; profiling/tests/
run the real wrappers under a scenario."""
import json
import os
import stat

import pytest

from perfkit import runfile, scenario
from runner_support import scenario_text

pytestmark = pytest.mark.spawns

# Takes the wrappers' common arguments, says it records, and at SIGTERM
# writes what a wrapper writes: metrics.json (with the pid it was given, so
# the test sees it was the SUT's), files.json and a file to link.
STAND_IN = r"""#!/bin/bash
while [ $# -gt 0 ]; do
  case $1 in --pid) pid=$2; shift 2;; -o) out=$2; shift 2;; --prefix) prefix=$2; shift 2;;
             *) echo "unexpected $1" >&2; exit 2;; esac
done
echo "$pid" > "$out/attached-to"
finish() {
  [ -n "$FAIL" ] && { echo "stand-in failing as asked" >&2; exit 3; }
  echo '<svg/>' > "$out/flamegraph.svg"
  printf '{"metrics": [{"name": "%s.cpu.samples", "unit": "count", "better": "lower", "samples": [%s], "portable": false}]}\n' "$prefix" "$pid" > "$out/metrics.json"
  echo '[{"kind": "flamegraph", "path": "flamegraph.svg", "title": "CPU flame graph"}]' > "$out/files.json"
  exit 0
}
trap finish TERM
: > "$out/recording"
while :; do sleep 0.05; done
"""

PHASES = """
[[phases]]
name = "idle"
seconds = 0.3

[[phases]]
name = "hot"
seconds = 0.5
"""


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    where = tmp_path / "profiling"
    where.mkdir()
    for name in ("perf.sh", "heaptrack.sh"):
        (where / name).write_text(STAND_IN)
        (where / name).chmod(0o755 | stat.S_IEXEC)
    monkeypatch.setenv("PERFKIT_PROFILING_DIR", str(where))
    return where


def test_a_profiled_phase_brings_its_metrics_and_files_into_the_run(perfkit_cli, stand_in,
                                                                     tmp_path):
    p = perfkit_cli(scenario_text(phases=PHASES), "--profile", "hot=perf")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    run = runfile.read_run(perfkit_cli.out)
    m = {x["name"]: x for x in run["metrics"]}
    profiles = tmp_path / "run.profiles" / "hot"
    pid = int((profiles / "attached-to").read_text())
    assert m["hot.profile.cpu.samples"]["samples"] == [pid]  # the SUT's pid, handed over
    assert "idle.profile.cpu.samples" not in m
    assert "hot.sut.cpu_mean_percent" in m
    [att] = run["attachments"]
    assert att == {"kind": "flamegraph", "name": "hot", "title": "CPU flame graph",
                   "path": "run.profiles/hot/flamegraph.svg"}  # relative to the run file
    assert "hot: attaching perf to pid" in err and "perf recording after" in err


def test_the_scenario_key_does_the_same_and_repetitions_keep_theirs(perfkit_cli, stand_in,
                                                                     tmp_path):
    phases = PHASES.replace('name = "hot"', 'name = "hot"\nprofile = "heaptrack"')
    p = perfkit_cli(scenario_text(phases=phases), "--repetitions", "2")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    run = runfile.read_run(perfkit_cli.out)
    m = {x["name"]: x for x in run["metrics"]}
    assert m["hot.profile.cpu.samples"]["runs"] == [1, 1]
    assert sorted((a["repetition"], a["path"]) for a in run["attachments"]) == [
        (1, "run.profiles/1/hot/flamegraph.svg"), (2, "run.profiles/2/hot/flamegraph.svg")]
    assert all((tmp_path / a["path"]).exists() for a in run["attachments"])


def test_a_profiler_that_fails_fails_the_run_with_its_output(perfkit_cli, stand_in, monkeypatch):
    monkeypatch.setenv("FAIL", "1")
    p = perfkit_cli(scenario_text(phases=PHASES), "--profile", "hot=perf")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1
    assert "phase hot: perf.sh failed with status 3" in err
    assert "stand-in failing as asked" in err
    assert not perfkit_cli.out.exists()


def test_a_missing_wrapper_is_said_before_the_phase(perfkit_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PERFKIT_PROFILING_DIR", str(tmp_path / "nowhere"))
    p = perfkit_cli(scenario_text(phases=PHASES), "--profile", "hot=perf")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1
    assert "profile 'perf' needs" in err and "nowhere/perf.sh" in err


@pytest.mark.parametrize("doc_profile, message", [
    ("valgrind", "phases[0].profile: 'valgrind' is not one of perf, heaptrack"),
    (3, "phases[0].profile: 3 is not one of perf, heaptrack"),
])
def test_a_bad_profile_key_is_refused_naming_it(doc_profile, message):
    doc = {"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
           "phases": [{"name": "idle", "seconds": 1, "profile": doc_profile}]}
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.parse(doc)
    assert str(e.value) == message


def test_the_command_line_overrides_the_file_and_names_a_bad_phase():
    doc = {"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
           "phases": [{"name": "a", "seconds": 1, "profile": "perf"}, {"name": "b", "seconds": 1}]}
    sc = scenario.with_profiles(scenario.parse(doc), ["a=heaptrack", "b=perf"])
    assert [p.profile for p in sc.phases] == ["heaptrack", "perf"]
    with pytest.raises(scenario.ScenarioError, match="no phase 'c'"):
        scenario.with_profiles(scenario.parse(doc), ["c=perf"])
