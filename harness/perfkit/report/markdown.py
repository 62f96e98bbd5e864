"""The report as markdown that renders on GitHub and reads in a terminal pager:
the verdict in the first line, then an overview, plots, a table per area,
what was not judged, the machines, profiles. Tables are padded and names
shortened so that a line stays within 100 columns."""
import textwrap

from ..units import show
from ..verdict import IMPROVEMENT, INCONCLUSIVE, REGRESSION, TOO_FEW

NAME_WIDTH = 30
_MACHINE = [("fingerprint", "fingerprint"), ("cpu", "CPU"), ("cores", "cores"),
            ("memory_bytes", "memory"), ("kernel", "kernel"), ("compiler", "compiler"),
            ("build", "build type"), ("governor", "governor")]


def _wrap(text, indent=""):
    return textwrap.fill(text, 100, subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False)


def _short(name, width=NAME_WIDTH):
    return name if len(name) <= width else "…" + name[-(width - 1):]


def table(head, rows, right=()):
    """A padded markdown table; columns in `right` are right-aligned."""
    cells = [list(map(str, head))] + [list(map(str, r)) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]

    def line(c):
        return "| " + " | ".join(x.rjust(w) if i in right else x.ljust(w)
                                 for i, (x, w) in enumerate(zip(c, widths))) + " |"
    rule = "|" + "|".join("-" * (w + 1) + ":" if i in right else "-" * (w + 2)
                          for i, w in enumerate(widths)) + "|"
    return [line(cells[0]), rule] + [line(c) for c in cells[1:]]


def _change(r):
    c = r["change"]
    if c is None:
        return ""
    x = (c["change"] * 100, c["low"] * 100, c["high"] * 100)
    d = 1 if max(map(abs, x)) < 10 else 0  # "+0.9 [-0.8, +2.2]", "+31 [+18, +44]"
    return f"{x[0]:+.{d}f} [{x[1]:+.{d}f}, {x[2]:+.{d}f}]"


def _p(r):
    if r["change"] is None:
        return ""
    p = r["change"]["p"]
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _target(r):
    if r["target"] is None:
        return ""
    return ("≤ " if r["better"] == "lower" else "≥ ") + show(r["target"], r["unit"])


def _status(r):
    aim = "aim missed" if r["aim_missed"] and not r["target_missed"] else ""
    return ", ".join(filter(None, [_verdict_word(r), aim]))


def _verdict_word(r):
    if r["target_missed"]:
        return "**MISSED TARGET**" + (", **REGRESSION**" if r["verdict"] == REGRESSION else "")
    word = {REGRESSION: "**REGRESSION**", IMPROVEMENT: "improved", INCONCLUSIVE: "undecided"}.get(
        r["verdict"], r["verdict"])
    if r["target"] is not None and r["change"] is None and r["verdict"] not in (TOO_FEW,):
        return "target met"  # nothing compared: the bound is the verdict
    return "" if word == "no baseline" else word


def _area_table(t, head):
    """Names take what the other columns leave of 100 columns (at least 20)."""
    rest = [(show(r["base"], r["unit"]), show(r["now"], r["unit"]), _change(r), _p(r),
             _target(r), _status(r)) for r in t["rows"]]
    # A column empty in every row (no change where nothing was compared) is left out.
    keep = [i for i in range(len(rest[0])) if i in (1, 5) or any(x[i] for x in rest)]
    rest = [[x[i] for i in keep] for x in rest]
    head = [head[0]] + [head[1 + i] for i in keep]
    widths = [max(len(h), *(len(x[i]) for x in rest)) for i, h in enumerate(head[1:])]
    name_width = max(18, 100 - sum(widths) - 3 * len(widths) - 4)
    rows = [(_short(r["short"], name_width), *x) for r, x in zip(t["rows"], rest)]
    right = {1 + keep.index(i) for i in (0, 1, 2, 3) if i in keep}
    return table(head, rows, right=right)


def _overview(c):
    def n(t, pred):
        k = sum(1 for r in t["rows"] if pred(r))
        return str(k) if k else ""
    rows = [(t["area"], len(t["rows"]), n(t, lambda r: r["verdict"] == REGRESSION),
             n(t, lambda r: r["target_missed"]),
             n(t, lambda r: r["verdict"] in (INCONCLUSIVE, TOO_FEW)),
             n(t, lambda r: r["verdict"] == IMPROVEMENT),
             n(t, lambda r: r["aim_missed"] and not r["target_missed"])) for t in c["tables"]]
    return table(("area", "metrics", "regressions", "targets missed", "undecided", "improved",
                  "aims missed"), rows, right={1, 2, 3, 4, 5, 6})


def _machines(c):
    other = c["against_machine"]

    def shown(m, k):
        v = m.get(k)
        return f"{v / 2**30:.1f} GiB" if k == "memory_bytes" and v is not None else (v or "-")
    head = ("", "this run") + (("A" if c["against"]["kind"] == "run" else "baseline",)
                               if other else ())
    rows = [(label, shown(c["machine"], k)) + ((shown(other, k),) if other else ())
            for k, label in _MACHINE]
    return table(head, rows)


def render(c):
    """The markdown of a report content dict (content.build), as one string."""
    ab = c["against"] and c["against"]["kind"] == "run"
    out = [f"# {c['verdict']['line']}", ""]
    if c["verdict"]["detail"]:
        out += [_wrap(c["verdict"]["detail"]), ""]
    meta = f"perfkit report of `{c['run']['path']}`, revision `{c['run']['revision'][:12]}`, " \
           f"started {c['run']['started']}"
    if c["against"]:
        a = c["against"]
        meta += (f"; {'A is' if ab else 'against'} `{a['path']}`, revision "
                 f"`{a['revision'][:12]}`, started {a['started']}")
    out += [_wrap(meta + ("; B is the run reported." if ab else ".")), "", _wrap(c["meaning"]), ""]
    out += ["## Overview", ""] + _overview(c) + [""]
    if c["plots"]:
        out += ["## Plots", ""]
        for p in c["plots"]:
            out += [f"![{p['title']}]({p['path']})", ""]
    conf = f"{c['confidence']:.0%}"
    head = ("metric", "A" if ab else "baseline", "B" if ab else "now",
            f"change % [{conf} CI]", "p", "target", "status")
    for t in c["tables"]:
        out += [f"## {t['area']}", ""] + _area_table(t, head) + [""]
    if c["notes"]:
        out += ["## Not judged, or undecided", ""] + [_wrap(f"- {n}", "  ") for n in c["notes"]] + [""]
    if c["trends"]:
        out += ["## History", ""] + [_wrap(f"- {t}", "  ") for t in c["trends"]] + [""]
    out += ["## Machine", ""] + _machines(c) + [""]
    if c["profiles"]:
        out += ["## Profiles", ""] + [f"- [{p['title']}]({p['path']})" for p in c["profiles"]]
        out += [""]
    return "\n".join(out)
