"""What a report says, as plain data: the verdict and the worst change, a table
of rows per area, the machines and what they mean for the comparison, plots
and profiles. The markdown, JUnit and JSON are each drawn from this one dict,
so they never disagree."""
import math

from .. import compare, compare_table
from ..compare import NOT_JUDGED
from ..verdict import IMPROVEMENT, INCONCLUSIVE, REGRESSION, TOO_FEW
from . import areas

SCHEMA = "perfkit.report/1"


def worse(r):
    """A judged row's change oriented so that + is worse (a fraction)."""
    return r.change.change if r.better == "lower" else -r.change.change


def _miss(r):
    """How far a missed target was missed, relative to it (+ is worse)."""
    if not r.target:
        return math.inf
    return (r.now / r.target - 1) * (1 if r.better == "lower" else -1)


def _count(n, word):
    return f"{n} {word}{'s' * (n != 1)}"


def verdict(rows, status, other_machine=False):
    """(kind, line, detail): the line is the first thing a reader sees, the
    worst offender named; the detail gives its interval and threshold, and
    says which of our own aims were missed."""
    kind, line, detail = _verdict(rows, status, other_machine)
    aims = [r for r in rows if r.aim_missed and not r.target_missed]
    if aims:
        detail += (" " if detail else "") + f"Aims of ours missed ({len(aims)}): " + \
            ", ".join(_named_aim(r) for r in aims[:3]) + (", ..." if len(aims) > 3 else "") + "."
    return kind, line, detail


def _named_aim(r):
    from ..units import show
    bound = "at most" if r.better == "lower" else "at least"
    return f"`{r.name}` {show(r.now, r.unit)}, aim {bound} {show(r.aim, r.unit)}"


def _verdict(rows, status, other_machine):
    regressions = sorted((r for r in rows if r.verdict == REGRESSION), key=worse, reverse=True)
    missed = sorted((r for r in rows if r.target_missed), key=_miss, reverse=True)
    undecided = [r for r in rows if r.verdict in (INCONCLUSIVE, TOO_FEW)]
    judged = sorted(compare.judged(rows), key=worse, reverse=True)
    if status == compare.EXIT_FAIL:
        parts = [_count(len(regressions), "regression")] if regressions else []
        parts += [_count(len(missed), "target") + " missed"] if missed else []
        if regressions:
            r = regressions[0]
            return ("fail", f"{', '.join(parts)}; worst: `{r.name}` {r.change.change * 100:+.1f} %",
                    f"Worst regression: {_named_change(r)}.")
        return ("fail", f"{', '.join(parts)}; worst: `{missed[0].name}`",
                f"Worst miss: {_named_target(missed[0])}.")
    if status == compare.EXIT_INCONCLUSIVE:
        first = undecided[0]
        detail = _named_change(first) if first.change else f"`{first.name}`: {first.note}"
        return ("inconclusive", f"Inconclusive: {_count(len(undecided), 'metric')} undecided",
                f"First: {detail}.")
    targets = sum(r.target is not None for r in rows)
    met = f", {_count(targets, 'target')} met" if targets else ""
    if status == compare.EXIT_NO_BASELINE:
        figures = sum(r.verdict != compare.MISSING for r in rows)
        where = "Nothing compared" if other_machine else "No baseline for this machine"
        return "no baseline", f"{where}: {_count(figures, 'figure')} reported{met}", ""
    better = sum(r.verdict == IMPROVEMENT for r in rows)
    line = (f"All well: {_count(len(judged), 'metric')} within their thresholds"
            + (f", {better} improved" if better else "") + met)
    return "ok", line, (f"Largest change: {_named_change(judged[0])}." if judged else "")


def change_text(r, digits=1):
    c = r.change
    return (f"{c.change * 100:+.{digits}f} % "
            f"[{c.low * 100:+.{digits}f}, {c.high * 100:+.{digits}f}]")


def _named_change(r):
    return f"`{r.name}` {change_text(r)} (threshold {r.threshold * 100:.0f} %)"


def _named_target(r):
    from ..units import show
    bound = "at most" if r.better == "lower" else "at least"
    return f"`{r.name}` {show(r.now, r.unit)}, target {bound} {show(r.target, r.unit)}"


def notes(rows):
    """compare's notes, those that share a reason joined into one line."""
    lines, by_reason = [], {}
    for r in rows:
        if r.verdict in (TOO_FEW, NOT_JUDGED):
            by_reason.setdefault((r.verdict, r.note), []).append(r.name)
    for (kind, why), names in by_reason.items():
        shown = ", ".join(f"`{n}`" for n in names[:3])
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        lines.append(f"{kind}: {shown}{more}: {why}")
    rest = [n for n in compare_table.notes(rows)
            if not n.startswith((f"{TOO_FEW}:", f"{NOT_JUDGED}:"))]
    return rest + lines


def meaning(found, against_run, fingerprint):
    """What the machines mean for the comparison, in a sentence or two."""
    side = "the other run" if against_run else "the baseline"
    if found.run is None:
        return (f"No baseline for this machine (fingerprint {fingerprint}): figures and targets "
                "only. Store one with `perfkit baseline update RUN.json` from a quiet run.")
    if found.portable_only:
        return (f"{side.capitalize()} is of another machine ({'; '.join(found.differences)}): "
                "only portable metrics (ratios measured within one run, instruction counts) "
                "are judged; absolute figures are shown but not compared.")
    return (f"{side.capitalize()} is of this machine (fingerprint {fingerprint}): every "
            "metric is compared, absolute figures too.")


def build(run, rows, status, found, *, run_path, against_run=False, confidence=0.95,
          plots=(), profiles=(), trends=()):
    """The report's content. found: baselines.Found (the baseline or the other run)."""
    kind, line, detail = verdict(rows, status, found.portable_only)
    other = found.run
    tables = [{"area": area,
               "rows": [{**r.as_dict(), "short": short} for short, r in members]}
              for area, members in areas.grouped(rows, run)]
    return {
        "schema": SCHEMA,
        "verdict": {"kind": kind, "line": line, "detail": detail, "status": status},
        "run": {"path": str(run_path), "revision": run["revision"], "started": run["started"],
                "scenario": run.get("scenario")},
        "against": None if other is None else {
            "kind": "run" if against_run else "baseline", "path": str(found.path),
            "revision": other["revision"], "started": other["started"],
            "portable_only": found.portable_only, "differences": found.differences},
        "confidence": confidence,
        "machine": run["machine"],
        "against_machine": other["machine"] if other else None,
        "meaning": meaning(found, against_run, run["machine"]["fingerprint"]),
        "tables": tables,
        "notes": notes(rows),
        "plots": list(plots),
        "profiles": list(profiles),
        "trends": list(trends),
    }
