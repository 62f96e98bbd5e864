"""Change points in one metric's series of per-run medians, in time order.

The method, in two steps, deterministic (no permutations, no random seed):

1. Candidates: the optimal partition of the series into constant segments
   (Jackson et al., "An algorithm for optimal partitioning of data on an
   interval", 2005), minimising the sum of squared deviations from each
   segment's mean plus a penalty per step, by dynamic programming over every
   split, each segment at least `min_points` long. The penalty is BIC's,
   2 sigma^2 ln n, with sigma the noise estimated from the differences between
   neighbouring runs (their MAD, which a few steps do not move).
2. The check, Hunter's (MongoDB's change-point tool, after E-divisive): each
   candidate is tested against the segments on either side of it, Welch's
   two-sample t-test (scipy.stats.ttest_ind) for its p-value, Bonferroni-
   corrected for the places in those segments the fit could have put it, and
   the segments' medians for its size. The weakest candidate failing p < alpha or
   |after/before - 1| >= min_relative is dropped, its neighbours re-tested
   against the merged segment, until every one left passes.

Why this one: a global fit finds both steps of a short bump (a regression
fixed a few runs later), which binary segmentation, splitting once at the
largest difference, tends to miss; the t-test gives each change point a
p-value whose meaning is known, where E-divisive's permutation test needs a
random seed to be repeatable; the size floor keeps only changes worth a look;
and the fit costs O(n^2) NumPy work, milliseconds for thousands of runs.
"""
import math
import statistics
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

MIN_RELATIVE = 0.05
MIN_POINTS = 3
ALPHA = 0.01


@dataclass(frozen=True)
class ChangePoint:
    index: int          # the first run at the new level
    before: float       # median of the segment before it
    after: float        # median of the segment from it on
    relative: float     # after / before - 1
    p_value: float      # Welch's t-test, segment before against segment after

    def worse(self, better):
        """Whether the step is a regression for a metric where `better` is
        "lower" or "higher"."""
        return self.relative > 0 if better == "lower" else self.relative < 0


@dataclass(frozen=True)
class Analysis:
    points: list = field(default_factory=list)
    note: str = ""      # why nothing could be found (too few runs), else empty


def noise(y):
    """The series' noise (a standard deviation), from its neighbours'
    differences: a step moves one difference, the MAD ignores it."""
    d = np.diff(y)
    return float(np.median(np.abs(d - np.median(d)))) * 1.4826 / math.sqrt(2) if len(d) else 0.0


def _candidates(y, min_points):
    """Optimal partition (sum of squares + BIC penalty per step): the indices
    where a new segment begins."""
    n = len(y)
    level = float(np.median(np.abs(y))) or 1.0
    # A floor on sigma: a series that never moves (an instruction count) would
    # otherwise cost nothing to cut anywhere.
    sigma = max(noise(y), 1e-3 * level)
    penalty = 2 * sigma * sigma * math.log(n)
    s = np.concatenate(([0.0], np.cumsum(y)))
    s2 = np.concatenate(([0.0], np.cumsum(y * y)))
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    cut = np.zeros(n + 1, dtype=int)
    for j in range(min_points, n + 1):
        i = np.arange(0, j - min_points + 1)
        length = j - i
        cost = (s2[j] - s2[i]) - (s[j] - s[i]) ** 2 / length
        total = best[i] + np.maximum(cost, 0.0) + penalty
        k = int(np.argmin(total))
        best[j], cut[j] = total[k], i[k]
    points, j = [], n
    while j > 0:
        j = cut[j]
        if j > 0:
            points.append(int(j))
    return sorted(points)


def _test(y, start, index, end, min_points):
    """(p-value, before, after, relative) of a step at index between the
    segments [start, index) and [index, end)."""
    left, right = y[start:index], y[index:end]
    before, after = statistics.median(left), statistics.median(right)
    if before == 0:
        relative = 0.0 if after == 0 else math.copysign(math.inf, after)
    else:
        relative = after / before - 1
    if np.ptp(left) == 0 and np.ptp(right) == 0:
        # Neither side varies at all (t is undefined): the step is certain if there is one.
        p = 0.0 if left[0] != right[0] else 1.0
    else:
        with warnings.catch_warnings():
            # Nearly constant sides warn of lost precision; the size floor still applies.
            warnings.simplefilter("ignore", RuntimeWarning)
            p = stats.ttest_ind(left, right, equal_var=False).pvalue
    # The fit chose this index as the best of every place in the two segments
    # a step could stand: Bonferroni for those places, or noise passes as steps.
    places = end - start - 2 * min_points + 1
    return min(1.0, float(p) * places), float(before), float(after), float(relative)


def find(medians, min_relative=MIN_RELATIVE, min_points=MIN_POINTS, alpha=ALPHA):
    """The change points of a series of per-run medians in time order."""
    y = np.asarray(medians, dtype=float)
    need = 2 * min_points
    if len(y) < need:
        return Analysis(note=f"{len(y)} runs, too few for change points "
                             f"(they need {need}: {min_points} on each side)")
    cps = _candidates(y, min_points)

    def _around(k):
        """Change point k with the bounds of its segments: (start, index, end)."""
        return (cps[k - 1] if k else 0, cps[k], cps[k + 1] if k + 1 < len(cps) else len(y))

    tests = [_test(y, *_around(k), min_points) for k, c in enumerate(cps)]
    while True:
        failing = [k for k, (p, _, _, rel) in enumerate(tests)
                   if p >= alpha or abs(rel) < min_relative]
        if not failing:
            break
        # The weakest first: its removal changes what its neighbours are tested against.
        k = max(failing, key=lambda k: (tests[k][0], -abs(tests[k][3])))
        del cps[k], tests[k]
        for n in (k - 1, k):
            if 0 <= n < len(cps):
                tests[n] = _test(y, *_around(n), min_points)
    return Analysis(points=[ChangePoint(c, before, after, rel, p)
                            for c, (p, before, after, rel) in zip(cps, tests)])
