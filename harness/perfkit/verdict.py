"""A metric's verdict from its change, its threshold and its direction; a
target judged on its own. A regression needs the whole interval beyond the
threshold on the worse side; an interval across it is inconclusive, never a
guess."""
import math

REGRESSION = "regression"
IMPROVEMENT = "improvement"
OK = "ok"
INCONCLUSIVE = "inconclusive"
TOO_FEW = "too few runs"

# How many runs are ever suggested: past this, more runs will not settle it.
_MOST_RUNS = 200


def judge(ch, better, threshold):
    """ch: a stats.Change (fractions); threshold: a fraction >= 0. The
    change is now/baseline - 1 in the metric's own terms: for a higher-is-better
    metric, -0.12 is 12 % worse."""
    worse_low, worse_high = ((ch.low, ch.high) if better == "lower" else (-ch.high, -ch.low))
    if worse_low > threshold:
        return REGRESSION
    if worse_high <= threshold:
        return IMPROVEMENT if worse_high < -threshold else OK
    return INCONCLUSIVE


def runs_to_decide(ch, better, threshold):
    """About how many runs a side needs for the interval to clear the threshold,
    from the interval's width shrinking as one over the square root of the
    runs; None when the change sits on the threshold itself."""
    worse = ch.change if better == "lower" else -ch.change
    distance = abs(worse - threshold)
    half_width = (ch.high - ch.low) / 2
    runs = max(ch.runs_now, ch.runs_base)
    if distance < half_width / math.sqrt(_MOST_RUNS / runs):
        return None
    return max(runs + 1, math.ceil(runs * (half_width / distance) ** 2 - 1e-9))


def target_missed(value, better, target):
    """A target is an absolute bound: at most it for lower-is-better metrics,
    at least it for higher-is-better ones."""
    if target is None:
        return False
    return value > target if better == "lower" else value < target
