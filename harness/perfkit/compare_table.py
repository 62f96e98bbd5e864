"""compare's table: per metric the baseline, now, the change with its
interval, p, the threshold and the verdict; then the geometric mean of the
changes and what was left out, and why."""
from . import compare, units
from .verdict import INCONCLUSIVE, TOO_FEW

_NAME_WIDTH = 44


def _name(name):
    return name if len(name) <= _NAME_WIDTH else "..." + name[-(_NAME_WIDTH - 3):]


def _change(r):
    if r.change is None:
        return ""
    c = r.change
    return f"{units.percent(c.change)} [{c.low * 100:+.1f}, {c.high * 100:+.1f}]"


def _verdict(r):
    text = r.verdict
    if r.target_missed:
        text = f"TARGET MISSED ({units.show(r.target, r.unit)})" + (
            "" if r.verdict in (compare.NEW, compare.NO_BASELINE) else f", {text}")
    text = text.upper() if r.verdict == "regression" else text
    if r.aim_missed and not r.target_missed:
        text += f", aim missed ({units.show(r.aim, r.unit)})"
    return text


def lines(rows, confidence=0.95):
    head = (f"{'metric':<{_NAME_WIDTH}} {'baseline':>10} {'now':>10} "
            f"{f'change [{confidence:.0%} interval]':>27} {'p':>7} {'thr':>5}  verdict")
    out = [head, "-" * len(head)]
    for r in rows:
        thr = units.percent(r.threshold, signed=False) + ("*" if r.threshold_from == "rule" else "")
        p = f"{r.change.p:.4f}" if r.change else ""
        out.append(f"{_name(r.name):<{_NAME_WIDTH}} {units.show(r.base, r.unit):>10} "
                   f"{units.show(r.now, r.unit):>10} {_change(r):>27} {p:>7} {thr:>5}  "
                   f"{_verdict(r)}")
    gm = compare.geometric_mean_change(rows)
    out.append("")
    if gm is not None:
        out.append(f"geometric mean of {len(compare.judged(rows))} changes: "
                   f"{units.percent(gm)} (+ is worse)")
    if any(r.threshold_from == "rule" for r in rows):
        out.append("* threshold set for this metric by the rules file")
    out += notes(rows)
    return out


def notes(rows):
    """What was not judged, and what would decide the undecided."""
    out = []
    for r in rows:
        if r.verdict == INCONCLUSIVE:
            more = (f"about {r.runs_needed} process runs a side would decide it" if r.runs_needed
                    else "its change sits on the threshold: more runs may never decide it")
            out.append(f"inconclusive: {r.name}: the interval straddles "
                       f"{units.percent(r.threshold, signed=False)}; {more}")
        elif r.verdict in (TOO_FEW, compare.NOT_JUDGED):
            out.append(f"{r.verdict}: {r.name}: {r.note}")
    skipped = sum(r.verdict == compare.SKIPPED for r in rows)
    if skipped:
        out.append(f"skipped: {skipped} absolute metrics, compared only against a baseline "
                   "of their own machine")
    return out


def summary(rows, status):
    """One line: what the exit status means, with the worst offenders named."""
    def names(pred):
        hit = [r.name for r in rows if pred(r)]
        return f"{len(hit)} ({', '.join(hit[:3])}{', ...' if len(hit) > 3 else ''})"
    if status == compare.EXIT_FAIL:
        parts = []
        if any(r.verdict == "regression" for r in rows):
            parts.append("regressions: " + names(lambda r: r.verdict == "regression"))
        if any(r.target_missed for r in rows):
            parts.append("targets missed: " + names(lambda r: r.target_missed))
        return "FAIL: " + "; ".join(parts)
    if status == compare.EXIT_INCONCLUSIVE:
        return "INCONCLUSIVE: " + names(lambda r: r.verdict in (INCONCLUSIVE, TOO_FEW))
    if status == compare.EXIT_NO_BASELINE:
        return "NO BASELINE: nothing could be compared for this machine"
    better = sum(r.verdict == "improvement" for r in rows)
    return (f"OK: {len(compare.judged(rows))} metrics within their thresholds"
            + (f", {better} improved" if better else ""))
