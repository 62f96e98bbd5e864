"""Figures the way people read them: 1.23 ms, 45.6 MB, 12.3 k/s, 4.5 %."""
import math

_TIME = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
_TIME_STEPS = [(1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")]
_BYTE_STEPS = [(1e9, "GB"), (1e6, "MB"), (1e3, "KB"), (1.0, "B")]
_RATE_STEPS = [(1e6, "M/s"), (1e3, "k/s"), (1.0, "/s")]


def _scaled(value, steps):
    for size, name in steps:
        if abs(value) >= size:
            return f"{_digits(value / size)} {name}"
    size, name = steps[-1]
    return f"{_digits(value / size)} {name}"


def _digits(x):
    """Three significant figures, never in e-notation."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:,.{decimals}f}"


def show(value, unit):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit in _TIME:
        if value == 0:
            return f"0 {unit}"  # not "0 ns" for a figure in ms
        return _scaled(value * _TIME[unit], _TIME_STEPS)
    if unit == "bytes":
        return _scaled(value, _BYTE_STEPS)
    if unit == "1/s":
        return _scaled(value, _RATE_STEPS)
    if unit == "percent":
        return f"{_digits(value)} %"
    if unit == "ratio":
        return f"{_digits(value)}x"
    if unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else _digits(value)
    return f"{_digits(value)} {unit}"


def percent(fraction, signed=True):
    return f"{fraction * 100:+.1f} %" if signed else f"{fraction * 100:.0f} %"
