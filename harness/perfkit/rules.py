"""The reviewed rules for each metric (baselines/metrics.toml): its threshold,
direction, target (the users' bound: a miss fails), aim (our own tighter
bound: a miss is reported, and fails nothing), how many process runs it needs, or that it is not judged
against a baseline at all. Rules match metric names by glob; the first
that matches wins, key by key, over the run's own values and the defaults.

    [defaults]
    threshold = "10%"      # more than this worse is a regression
    min_runs = 3           # process runs a side needs before it is judged

    [[rule]]
    match = ["collector.*.allocations_per_cycle"]
    threshold = "0%"       # must not grow at all
    min_runs = 1           # a count that does not vary between runs
    why = "the collector allocates nothing per cycle"
"""
import fnmatch
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_THRESHOLD = 0.10
DEFAULT_MIN_RUNS = 3
_KEYS = {"match", "threshold", "better", "target", "aim", "min_runs", "portable", "judge", "why"}


class RulesError(ValueError):
    """A rules file or a threshold that cannot be read."""


def parse_threshold(text):
    """'10%', '10 %', '0%' or a fraction ('0.1') -> a fraction."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", str(text))
        if not m:
            raise RulesError(f"threshold {text!r} is not a percentage like 10% or a fraction like 0.1")
        value = float(m.group(1)) / (100 if m.group(2) else 1)
    if not 0 <= value < 10:
        raise RulesError(f"threshold {text!r} is out of range")
    return value


@dataclass(frozen=True)
class Settings:
    """What applies to one metric, and where its threshold came from."""
    threshold: float
    threshold_from: str  # "default", "run" or "rule"
    better: str
    target: float | None
    aim: float | None
    min_runs: int
    portable: bool
    judge: bool
    why: str | None


class Rules:
    def __init__(self, rules=(), threshold=DEFAULT_THRESHOLD, min_runs=DEFAULT_MIN_RUNS,
                 source=None):
        self.rules = list(rules)
        self.threshold = threshold
        self.min_runs = min_runs
        self.source = source

    def for_metric(self, m):
        """Settings of a run's metric (a run-1 metric dict)."""
        rule = next((r for r in self.rules
                     if any(fnmatch.fnmatchcase(m["name"], g) for g in r["match"])), {})
        if "threshold" in rule:
            threshold, src = rule["threshold"], "rule"
        elif "threshold" in m:
            threshold, src = m["threshold"], "run"
        else:
            threshold, src = self.threshold, "default"
        return Settings(threshold=threshold, threshold_from=src,
                        better=rule.get("better", m["better"]),
                        target=rule.get("target", m.get("target")), aim=rule.get("aim"),
                        min_runs=rule.get("min_runs", self.min_runs),
                        portable=rule.get("portable", m["portable"]),
                        judge=rule.get("judge", True), why=rule.get("why"))


def load(path, threshold=None):
    """Reads a rules file; threshold (a fraction) overrides its default."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as e:
        raise RulesError(f"{path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise RulesError(f"{path}: not TOML: {e}") from None
    defaults = doc.get("defaults", {})
    unknown = set(doc) - {"defaults", "rule"} or set(defaults) - {"threshold", "min_runs"}
    if unknown:
        raise RulesError(f"{path}: unknown key {sorted(unknown)[0]!r}")
    rules = []
    for i, r in enumerate(doc.get("rule", []), 1):
        where = f"{path}: rule {i}"
        if set(r) - _KEYS:
            raise RulesError(f"{where}: unknown key {sorted(set(r) - _KEYS)[0]!r}")
        match = r.get("match")
        match = [match] if isinstance(match, str) else match
        if not match or not all(isinstance(g, str) for g in match):
            raise RulesError(f"{where}: needs match = a glob or a list of globs")
        rule = {**r, "match": match}
        try:
            if "threshold" in r:
                rule["threshold"] = parse_threshold(r["threshold"])
        except RulesError as e:
            raise RulesError(f"{where}: {e}") from None
        if r.get("better", "lower") not in ("lower", "higher"):
            raise RulesError(f"{where}: better must be lower or higher")
        if not isinstance(r.get("min_runs", 1), int) or r.get("min_runs", 1) < 1:
            raise RulesError(f"{where}: min_runs must be a positive integer")
        for key in ("target", "aim"):
            if key in r and not isinstance(r[key], (int, float)):
                raise RulesError(f"{where}: {key} must be a number in the metric's unit")
        if any(not isinstance(r.get(k, True), bool) for k in ("portable", "judge")):
            raise RulesError(f"{where}: portable and judge are true or false")
        rules.append(rule)
    try:
        default = parse_threshold(defaults.get("threshold", DEFAULT_THRESHOLD))
    except RulesError as e:
        raise RulesError(f"{path}: defaults: {e}") from None
    return Rules(rules, threshold if threshold is not None else default,
                 defaults.get("min_runs", DEFAULT_MIN_RUNS), source=str(path))
