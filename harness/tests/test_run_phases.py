"""`perfkit run --phases NAME[,NAME...]`: only the named phases, in the
scenario's order, their metrics named as in a whole run (scenario.only_phases
and the command line). A name given twice is refused, not collapsed: it is
more likely a slip than a wish."""
import os
import subprocess

import pytest

from perfkit import runfile, scenario
from runner_support import FULL_PHASES, HARNESS, PY, scenario_text

THREE = {"name": "x", "sut": {"command": ["a"], "ready": {"delay_s": 1}},
         "phases": [{"name": "idle", "seconds": 1}, {"name": "loaded", "seconds": 2},
                    {"name": "client", "seconds": 3}]}


def test_the_scenarios_order_is_kept_and_the_scenario_left_as_it_was():
    whole = scenario.parse(THREE)
    quick = scenario.only_phases(whole, ["client", "idle"])
    assert [p.name for p in quick.phases] == ["idle", "client"]
    assert [p.seconds for p in quick.phases] == [1, 3]
    assert (quick.name, quick.sut, quick.sampling) == (whole.name, whole.sut, whole.sampling)
    assert [p.name for p in whole.phases] == ["idle", "loaded", "client"]


@pytest.mark.parametrize("names, message", [
    (["idle", "busy"], "no phase 'busy' in scenario 'x'; its phases: idle, loaded, client"),
    ([""], "no phase '' in scenario 'x'; its phases: idle, loaded, client"),
    (["idle", "client", "idle"], "phase 'idle' is named twice"),
    ([], "name at least one phase to run"),
])
def test_unknown_repeated_or_no_names_are_refused(names, message):
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.only_phases(scenario.parse(THREE), names)
    assert str(e.value) == message


def perfkit_run(tmp_path, *args):
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_text(phases=FULL_PHASES))
    return subprocess.run([PY, "-m", "perfkit", "run", path, *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(HARNESS)})


@pytest.mark.parametrize("phases, message", [
    ("idle,busy", "no phase 'busy' in scenario 'testdaemon'; its phases: idle, loaded, client"),
    ("idle,idle", "phase 'idle' is named twice"),
    ("idle,", "no phase '' in scenario 'testdaemon'; its phases: idle, loaded, client"),
])
def test_the_cli_refuses_a_bad_list_in_one_line(tmp_path, phases, message):
    r = perfkit_run(tmp_path, "-o", tmp_path / "run.json", "--phases", phases)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [f"perfkit: run: --phases: {message}"], r.stderr
    assert not (tmp_path / "run.json").exists()


def test_check_prints_the_phases_selected(tmp_path):
    r = perfkit_run(tmp_path, "--check", "--phases", "client,idle")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (f"{tmp_path / 'scenario.toml'}: scenario 'testdaemon', 2 of 3 phases: "
                        "idle, client\n")


@pytest.mark.spawns
def test_a_run_of_some_phases_measures_theirs_by_the_same_names(perfkit_cli):
    def run(*extra):
        p = perfkit_cli(scenario_text(phases=FULL_PHASES), *extra)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        return runfile.read_run(perfkit_cli.out), err

    whole, _ = run()
    quick, err = run("--phases", "client,idle")
    assert [ph["name"] for ph in quick["phases"]] == ["idle", "client"]
    assert "[1/2] phase idle" in err and "[2/2] phase client" in err, err
    assert "load up" not in err, err  # the loaded phase's loadgen never started
    names = {m["name"] for m in whole["metrics"]}
    assert {"loaded.ping.seconds", "loaded.sut.cpu_mean_percent"} <= names  # left out below
    kept = {n for n in names if n.split(".")[0] in ("idle", "client", "run")}
    assert {m["name"] for m in quick["metrics"]} == kept
