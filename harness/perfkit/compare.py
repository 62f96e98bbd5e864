"""A run judged against its baseline, metric by metric: the change with its
interval (stats), the verdict under the metric's rules (verdict, rules), its
target on its own; and the exit status all of it adds up to."""
import math
from dataclasses import asdict, dataclass

from . import runfile, stats, verdict
from .verdict import INCONCLUSIVE, REGRESSION, TOO_FEW

# Verdicts of a metric that was not compared, and why.
NEW = "new"              # not in the baseline
MISSING = "missing"      # in the baseline, not in the run
SKIPPED = "skipped"      # another machine's baseline and not portable
NOT_JUDGED = "not judged"  # its rule says so, or a zero baseline
NO_BASELINE = "no baseline"

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INCONCLUSIVE, EXIT_NO_BASELINE = 0, 1, 2, 3, 4


@dataclass
class Row:
    name: str
    unit: str
    better: str
    now: float
    base: float | None
    verdict: str
    threshold: float
    threshold_from: str
    change: stats.Change | None = None
    target: float | None = None
    target_missed: bool = False
    aim: float | None = None     # ours, tighter than the target: reported, fails nothing
    aim_missed: bool = False
    runs_needed: int | None = None
    note: str = ""

    def as_dict(self):
        """For JSON: a figure that does not exist (now, for a missing metric) is null."""
        d = asdict(self)
        d["change"] = asdict(self.change) if self.change else None
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in d.items()}


def _row(m, base_m, settings, portable_only, confidence):
    groups = runfile.groups(m)
    now = stats.centre(groups)
    row = Row(name=m["name"], unit=m["unit"], better=settings.better, now=now, base=None,
              verdict=NO_BASELINE, threshold=settings.threshold,
              threshold_from=settings.threshold_from, target=settings.target,
              target_missed=verdict.target_missed(now, settings.better, settings.target),
              aim=settings.aim, aim_missed=verdict.target_missed(now, settings.better, settings.aim))
    if base_m is None:
        row.verdict = NEW
        return row
    base_groups = runfile.groups(base_m)
    row.base = stats.centre(base_groups)
    if not settings.judge:
        row.verdict, row.note = NOT_JUDGED, settings.why or "its rule says not to judge it"
    elif portable_only and not settings.portable:
        row.verdict, row.note = SKIPPED, "absolute: compared only on its own machine"
    elif len(groups) < settings.min_runs or len(base_groups) < settings.min_runs:
        row.verdict = TOO_FEW
        row.note = (f"{len(base_groups)} runs in the baseline, {len(groups)} now; "
                    f"needs {settings.min_runs} each")
    elif row.base <= 0 or now < 0 or min(min(g) for g in base_groups) <= 0:
        row.verdict, row.note = NOT_JUDGED, "a change relative to zero means nothing"
    else:
        row.change = stats.change(base_groups, groups, confidence, seed=m["name"])
        row.verdict = verdict.judge(row.change, settings.better, settings.threshold)
        if row.verdict == INCONCLUSIVE:
            row.runs_needed = verdict.runs_to_decide(row.change, settings.better,
                                                     settings.threshold)
    return row


def compare(run, baseline, rules, portable_only=False, confidence=0.95):
    """Rows for every metric of the run (baseline may be None), then one for
    every baseline metric the run lacks."""
    base = {m["name"]: m for m in baseline["metrics"]} if baseline else {}
    rows = []
    for m in run["metrics"]:
        row = _row(m, base.get(m["name"]), rules.for_metric(m), portable_only, confidence)
        if baseline is None:
            row.verdict = NO_BASELINE
        rows.append(row)
    names = {m["name"] for m in run["metrics"]}
    for m in base.values():
        if m["name"] not in names:
            s = rules.for_metric(m)
            rows.append(Row(name=m["name"], unit=m["unit"], better=s.better, now=float("nan"),
                            base=stats.centre(runfile.groups(m)), verdict=MISSING,
                            threshold=s.threshold, threshold_from=s.threshold_from))
    return rows


def judged(rows):
    return [r for r in rows if r.change is not None]


def exit_status(rows):
    """1 a regression or a missed target; else 3 something undecided; else 4
    nothing could be compared; else 0."""
    if any(r.verdict == REGRESSION or r.target_missed for r in rows):
        return EXIT_FAIL
    if any(r.verdict in (INCONCLUSIVE, TOO_FEW) for r in rows):
        return EXIT_INCONCLUSIVE
    if not judged(rows):
        return EXIT_NO_BASELINE
    return EXIT_OK


def geometric_mean_change(rows):
    """The geometric mean of every judged change, oriented so that + is worse."""
    logs = [math.log1p(r.change.change) * (1 if r.better == "lower" else -1)
            for r in judged(rows) if r.change.change > -1]
    return math.expm1(sum(logs) / len(logs)) if logs else None
