"""Does a daemon grow from one round of load to the next? The decision of
profiling/leakcheck.sh, on per-round readings (RSS or heap in use, bytes, one
a round, each taken at the same point of its round).

The rule, for each series: drop the warm-up rounds, then

  - slope: the Theil-Sen slope of the remaining readings over their round
    numbers (the median of every pair's slope, scipy.stats.theilslopes), in
    bytes a round;
  - steps: the differences of consecutive readings;

and the series GROWS when the slope is over the tolerance AND more than half
of the steps grew by more than half the tolerance. The slope makes the verdict
about a trend over every round, not about the first and last reading; being a
median, one wild reading hardly moves it. The steps keep a level that moved
once (a cache that filled, an arena that glibc grew) from passing for a trend:
with the jump in the middle of ten rounds the slope is an eighth of the jump,
but only one step of nine grew. A step counts only past half the tolerance
because RSS moves by pages on its own: with four rounds judged, one jump and
one stray page (+4 KB) were two steps of three, and a level passed for a trend.
A series that does grow by the tolerance a round grows by about that much at
most steps. Noise around a flat level gives steps on both sides and a slope
near zero, well under a tolerance above the noise.

A slope can only be fit to three readings or more: fewer rounds after the
warm-up are refused (ValueError).
"""
import math
import re
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..units import show

MIN_ROUNDS = 3  # after the warm-up: a slope and at least two steps

_TOLERANCE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%|[KMG]i?B?|B)?\s*$")
_UNITS = {None: 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


@dataclass(frozen=True)
class Tolerance:
    """Growth a round that is let pass: `bytes`, or `percent` of the series'
    level (the median of its readings after the warm-up)."""
    bytes: float = None
    percent: float = None
    text: str = None          # as given

    def per_round(self, level):
        if self.percent is not None:
            return abs(level) * self.percent / 100.0
        return float(self.bytes)

    def __str__(self):
        if self.percent is not None:
            return f"{self.percent:g} % of the level a round"
        given = f"{self.text.strip()} = " if self.text else ""
        return f"{given}{_bytes(self.bytes)} a round"


def parse_tolerance(text):
    """'64K', '1M', '4096', '100B', '1.5%': K, M and G are units of 1024
    (64KiB and 64KB are read as 64K). ValueError, saying what is accepted."""
    m = _TOLERANCE.match(str(text))
    if not m:
        raise ValueError(f"tolerance {text!r}: give bytes a round (64K, 1M, 4096: K, M, G are "
                         "units of 1024) or a percent of the level (1%)")
    number, unit = float(m.group(1)), m.group(2)
    if unit == "%":
        return Tolerance(percent=number, text=str(text))
    return Tolerance(bytes=number * _UNITS[unit[0] if unit else None], text=str(text))


@dataclass
class Verdict:
    name: str                 # "rss", "heap"
    values: list              # every round's reading, warm-up included
    warmup: int               # how many of them are warm-up
    tolerance: Tolerance
    steps: list = field(default_factory=list)  # after the warm-up
    slope: float = 0.0        # bytes a round (Theil-Sen)
    slope_low: float = 0.0    # its 95 % interval
    slope_high: float = 0.0
    limit: float = 0.0        # the tolerance in bytes a round
    grown_steps: int = 0      # steps over half the limit
    grows: bool = False

    @property
    def judged(self):
        return self.values[self.warmup:]

    @property
    def reason(self):
        n = len(self.steps)
        grew = f"{self.grown_steps} of {n} steps grew by over {_bytes(self.limit / 2)}"
        slope = f"slope {_bytes(self.slope, signed=True)} a round"
        if self.grows:
            return (f"grows: {slope} (95 % interval {_bytes(self.slope_low, signed=True)} to "
                    f"{_bytes(self.slope_high, signed=True)}), over the tolerance of "
                    f"{_bytes(self.limit)}, and {grew}")
        if self.slope > self.limit:
            return (f"no steady growth: {slope}, over the tolerance of {_bytes(self.limit)}, but "
                    f"only {grew} (a level that moved, not a trend)")
        return (f"flat: {slope}, within the tolerance of {_bytes(self.limit)} "
                f"({grew})")


def judge(name, values, warmup, tolerance):
    """The Verdict on one series of per-round readings (warm-up first)."""
    values = [float(v) for v in values]
    if warmup < 0:
        raise ValueError("warm-up rounds cannot be negative")
    if any(not math.isfinite(v) for v in values):
        raise ValueError(f"{name}: a reading is not a number: {values}")
    judged = np.array(values[warmup:])
    if len(judged) < MIN_ROUNDS:
        raise ValueError(f"{name}: {len(judged)} rounds after {warmup} of warm-up; a trend needs "
                         f"at least {MIN_ROUNDS}")
    steps = np.diff(judged)
    slope, _, low, high = stats.theilslopes(judged, np.arange(len(judged)), alpha=0.95)
    limit = tolerance.per_round(float(np.median(judged)))
    grown = int((steps > limit / 2).sum())
    grows = bool(slope > limit and grown * 2 > len(steps))
    return Verdict(name=name, values=values, warmup=warmup, tolerance=tolerance,
                   steps=[float(s) for s in steps], slope=float(slope), slope_low=float(low),
                   slope_high=float(high), limit=float(limit), grown_steps=grown,
                   grows=grows)


RULE = ("after the warm-up rounds, a series grows when the Theil-Sen slope of its per-round "
        "readings (the median of every pair's slope) is over the tolerance AND more than half "
        "of its round-to-round steps grew by more than half the tolerance; one jump to a new "
        "level is not a trend, nor is a stray page, and noise around a level gives a slope "
        "near zero")


def _bytes(value, signed=False):
    text = show(value, "bytes")
    return f"+{text}" if signed and value > 0 else text
