"""procmond run: events/s to subscribers (> 1,000), durable WAL writes/s
(> 500), backpressure (< 1 s), start; and the daemon's own CPU and RSS under
loadgen's loads of 1,000 and 10,000 processes (the users' bounds: < 5 % and
< 100 MB, < 10 % and < 200 MB), each against the stored baseline."""
import pytest

import measure

pytestmark = pytest.mark.perf

SCENARIO = "harness/scenarios/procmond-daemon.toml"


@pytest.mark.quick
def test_events_wal_and_backpressure(perf_judge, tmp_path):
    run = measure.daemon(tmp_path)
    perf_judge.check(run, "daemon.*", remeasure=lambda: measure.daemon(tmp_path))


@pytest.mark.quick
def test_the_daemon_under_1000_processes(perf_judge, tmp_path):
    phases = ["idle", "steady1000"]
    run = measure.scenario(tmp_path, SCENARIO, phases)
    perf_judge.check(run, [f"procmond-daemon.{p}.sut.*" for p in phases],
                     remeasure=lambda: measure.scenario(tmp_path, SCENARIO, phases))


def test_the_daemon_under_every_load(perf_judge, tmp_path):
    run = measure.scenario(tmp_path, SCENARIO)
    perf_judge.check(run, "procmond-daemon.*.sut.*",
                     remeasure=lambda: measure.scenario(tmp_path, SCENARIO))
