"""perfkit.profiles.perf_stat (perf stat -x, -> counters, metrics) on real
output of this VM (data/perf-stat-*.csv: counted; the one-shot probe with
cycles and instructions <not supported>; <not counted> of events never
enabled; user space only, as the user nobody under perf_event_paranoid 2),
and perfkit.profiles.perf_plan's decisions: who may profile what, which
event to sample, which counters to count."""
from pathlib import Path

import pytest

from perfkit import runfile
from perfkit.profiles import perf_plan, perf_stat

DATA = Path(__file__).resolve().parent / "data"


def parse(name):
    return perf_stat.parse((DATA / name).read_text())


def test_counted():
    cs = parse("perf-stat-counted.csv")
    assert [(c.event, c.status, c.value) for c in cs] == [
        ("task-clock", "counted", 994.13), ("context-switches", "counted", 106),
        ("cpu-migrations", "counted", 1), ("page-faults", "counted", 59)]
    ms = {m["name"]: m for m in perf_stat.metrics(cs, prefix="hot")}
    assert ms["hot.cpu.task_clock_ms"]["samples"] == [994.13]
    assert ms["hot.cpu.task_clock_ms"]["unit"] == "ms"
    assert ms["hot.cpu.context_switches"]["unit"] == "count"
    assert set(ms) == {"hot.cpu.task_clock_ms", "hot.cpu.context_switches",
                       "hot.cpu.cpu_migrations", "hot.cpu.page_faults"}
    runfile.validate_metrics(list(ms.values()))


def test_not_supported_and_not_counted_give_no_metric():
    probe = {c.event: c for c in parse("perf-stat-probe.csv")}
    assert probe["cycles"].status == probe["instructions"].status == perf_stat.NOT_SUPPORTED
    assert probe["cycles"].value is None
    assert [m["name"] for m in perf_stat.metrics(probe.values())] == [
        "cpu.task_clock_ms", "cpu.context_switches", "cpu.cpu_migrations", "cpu.page_faults"]
    nc = parse("perf-stat-not-counted.csv")
    assert [c.status for c in nc] == ["not counted"] * 3 + ["not supported"]
    assert perf_stat.metrics(nc) == []


def test_user_only_modifiers_come_off():
    cs = {c.event: c for c in parse("perf-stat-user-only.csv")}
    assert cs["task-clock"].user_only and cs["task-clock"].value == pytest.approx(172.14)
    assert cs["page-faults"].value == 58


def test_hybrid_cpu_lines_add_up():
    # Written by hand after perf's format: no hybrid CPU here to capture from.
    text = ("1000,,cpu_core/instructions/,5000,100.00,,\n"
            "500,,cpu_atom/instructions/,5000,60.00,,\n"
            "12.5,msec,task-clock:u,12500000,100.00,0.9,CPUs utilized\n"
            "Events disabled\n")
    cs = {c.event: c for c in perf_stat.parse(text)}
    assert cs["instructions"].value == 1500 and cs["instructions"].enabled_pct == 60
    assert cs["task-clock"].user_only
    assert perf_stat.normalise("cpu_core/cycles/u") == ("cycles", True)
    assert perf_stat.normalise("cycles:uk") == ("cycles", False)


def system(**kw):
    base = dict(paranoid=2, kptr_restrict=0, uid=1000, caps=0, user="alice")
    return perf_plan.System(**{**base, **kw})


def test_access_rules():
    assert perf_plan.access(system(uid=0, user="root"))[0] == "all"
    assert perf_plan.access(system(caps=1 << perf_plan.CAP_PERFMON))[0] == "all"
    scope, notes = perf_plan.access(system(paranoid=2))
    assert scope == "user" and "sysctl kernel.perf_event_paranoid=1" in notes[0]
    scope, notes = perf_plan.access(system(paranoid=1, kptr_restrict=1))
    assert scope == "all" and "kernel.kptr_restrict=0" in notes[0]
    assert perf_plan.access(system(paranoid=-1)) == ("all", [])
    with pytest.raises(perf_plan.Refused, match=r"perf_event_paranoid is 3: alice may not use "
                                                r"perf at all; as root: sysctl "
                                                r"kernel.perf_event_paranoid=1"):
        perf_plan.access(system(paranoid=3))
    with pytest.raises(perf_plan.Refused, match="another user"):
        perf_plan.access(system(paranoid=-1), target_uid=0)
    # root may profile anyone's process
    assert perf_plan.access(system(uid=0), target_uid=1000)[0] == "all"


def test_plan_without_a_pmu():
    counters = parse("perf-stat-probe.csv")
    p = perf_plan.plan("all", [], counters)
    assert p.record_event == "cpu-clock"
    assert p.stat_events == ["task-clock", "context-switches", "cpu-migrations", "page-faults"]
    assert {x["what"] for x in p.left_out} == {"cycles", "instructions"}
    assert all("no hardware performance counters" in x["why"] for x in p.left_out)


def test_plan_with_a_pmu_samples_cycles():
    text = (DATA / "perf-stat-probe.csv").read_text().replace(
        "<not supported>,,cycles,0,100.00,,", "4000000,,cycles,4457118,100.00,,").replace(
        "<not supported>,,instructions,0,100.00,,", "3000000,,instructions,4457118,100.00,,")
    p = perf_plan.plan("all", [], perf_stat.parse(text))
    assert p.record_event == "cycles" and p.left_out == []
    assert p.stat_events[-2:] == ["instructions", "cycles"]
    assert perf_plan.plan("all", [], perf_stat.parse(text), event="cpu-clock").record_event == "cpu-clock"


def test_plan_in_user_space_drops_what_happens_in_the_kernel():
    p = perf_plan.plan("user", ["user space only: ..."], parse("perf-stat-user-only.csv"))
    assert p.record_event == "cpu-clock:u"
    assert p.stat_events == ["task-clock:u", "page-faults:u"]
    assert {x["what"] for x in p.left_out} == {"cycles", "instructions", "context-switches",
                                               "cpu-migrations"}
    assert p.notes[0] == "user space only: ..."


def test_a_frequency_above_the_kernels_maximum_is_refused():
    perf_plan.check_freq(999, 100000)
    perf_plan.check_freq(999, None)  # not readable: perf record will say
    with pytest.raises(perf_plan.Refused, match=r"--freq 200000 is above "
                                                r"kernel.perf_event_max_sample_rate \(100000\)"):
        perf_plan.check_freq(200000, 100000)
