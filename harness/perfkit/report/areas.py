"""Which table of the report a metric belongs to: its area (the first part of
its name: collector, loadgen, sampler, daemon, a scenario) and, for a
scenario, its phase, so that each phase gets a table of its own."""


def scenarios_of(run):
    """{scenario name: its phase names} for the scenarios a run holds: its own
    (a run of one scenario) and those whose series it carries (imported)."""
    out = {}
    if run.get("scenario"):
        out[run["scenario"]] = {ph["name"] for ph in run.get("phases", [])}
    for a in run.get("attachments", []):
        if a["kind"] == "series":
            out.setdefault(a["name"], set()).update(ph["name"] for ph in a.get("phases", []))
    for phases in out.values():
        phases.add("run")  # a scenario's whole-run figures (its VmHWM) under "run"
    return out


def area_of(name, scenarios, own=None):
    """(area, short name): 'procmond-daemon.steady1000.sut.cpu_mean_percent' ->
    ('procmond-daemon · steady1000', 'sut.cpu_mean_percent'). A run of one
    scenario (own: its name; its metrics named from the phase on) takes the
    scenario's name; other metrics go by their first part: 'collector.x' ->
    ('collector', 'x')."""
    parts = name.split(".")
    if own and parts[0] in scenarios.get(own, ()):
        parts = [own, *parts]
    if len(parts) > 2 and parts[1] in scenarios.get(parts[0], ()):
        return f"{parts[0]} · {parts[1]}", ".".join(parts[2:])
    if len(parts) > 1:
        return parts[0], ".".join(parts[1:])
    return "other", name


def grouped(rows, run):
    """[(area, [(short name, row), ...]), ...] in the order areas first occur."""
    scenarios, out = scenarios_of(run), {}
    for r in rows:
        area, short = area_of(r.name, scenarios, run.get("scenario"))
        out.setdefault(area, []).append((short, r))
    return list(out.items())
