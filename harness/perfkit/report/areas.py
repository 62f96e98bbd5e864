"""Which table of the report a metric belongs to: its area (the first part of
its name: collector, loadgen, sampler, daemon, a scenario) and, for a
scenario, its phase, so that each phase gets a table of its own."""


def phase_names(run):
    """The phase names a run knows of: its own, and its attached series'."""
    names = {ph["name"] for ph in run.get("phases", [])}
    for a in run.get("attachments", []):
        names |= {ph["name"] for ph in a.get("phases", [])}
    return names | {"run"}  # a scenario's whole-run figures (hwm) under "run"


def area_of(name, phases, scenario=None):
    """(area, short name): 'procmond-daemon.steady1000.sut.cpu_mean_percent' ->
    ('procmond-daemon · steady1000', 'sut.cpu_mean_percent'). A run of one
    scenario (its metrics named from the phase on) takes the scenario's name."""
    parts = name.split(".")
    if scenario and parts[0] in phases:
        parts = [scenario, *parts]
    if len(parts) > 2 and parts[1] in phases:
        return f"{parts[0]} · {parts[1]}", ".".join(parts[2:])
    if len(parts) > 1:
        return parts[0], ".".join(parts[1:])
    return "other", name


def grouped(rows, run):
    """[(area, [(short name, row), ...]), ...] in the order areas first occur."""
    phases, out = phase_names(run), {}
    for r in rows:
        area, short = area_of(r.name, phases, run.get("scenario"))
        out.setdefault(area, []).append((short, r))
    return list(out.items())
