"""leakcheck's verdict written out: metrics.json (growth.rss_bytes_per_round,
growth.heap_bytes_per_round), files.json and summary.md, from the rounds
(growth_rounds.py), the heap at each round's end and the sites that grew
(growth_heap.py), judged by growth.py."""
import re
from pathlib import Path

import numpy as np
from scipy import stats

from .. import runfile
from ..runfile import metric
from ..units import show
from . import growth, outdir

TOP_SITES = 5
SITE_FLOOR = 0.01  # of the fastest-growing site's slope
_MAX_NAME = 110  # characters of a site's function in the table
_OPERATOR = re.compile(r"<=>|<<=|>>=|<<|>>|<=|>=|->\*|->|<|>")


def site_growth(timeline, warmup):
    """[(slope bytes/round, first, last, site, caller)] of the sites whose
    bytes in use grew over the rounds after the warm-up, by Theil-Sen slope
    (the same fit as the verdict), largest first, down to SITE_FLOOR of the
    largest."""
    out = []
    for site, values in timeline.site_bytes.items():
        judged = values[warmup:]
        if len(judged) < growth.MIN_ROUNDS or judged[-1] <= judged[0]:
            continue
        slope = float(stats.theilslopes(judged, np.arange(len(judged)))[0])
        if slope > 0:
            out.append((slope, judged[0], judged[-1], site, timeline.site_callers.get(site)))
    out.sort(key=lambda r: -r[0])
    # Sites that moved by a few bytes beside the one that grew are noise.
    return [r for r in out if r[0] >= out[0][0] * SITE_FLOOR]


def metrics(verdicts, prefix=None):
    """One metric per series judged; its samples are the round-to-round steps
    after the warm-up (their median is near the slope the verdict fits)."""
    names = {"rss": "growth.rss_bytes_per_round", "heap": "growth.heap_bytes_per_round"}
    out = [metric(f"{prefix}.{names[v.name]}" if prefix else names[v.name], "bytes", "lower",
                  v.steps) for v in verdicts]
    runfile.validate_metrics(out)
    return out


def summary(record, verdicts, sites, heap_note=None):
    """summary.md: the verdict, the rule, a table of the rounds, the sites."""
    grows = [v for v in verdicts if v.grows]
    rounds = record["rounds"]
    lines = []
    if grows:
        lines.append(f"# leakcheck: FAIL, {' and '.join(_title(v) for v in grows)} "
                     f"grow{'s' if len(grows) == 1 else ''} from round to round")
    else:
        lines.append(f"# leakcheck: pass, no steady growth over {len(rounds)} rounds")
    lines.append("")
    lines.append(f"`{' '.join(record['command'])}` (pid {record['pid']}), "
                 f"{len(rounds)} rounds of {record['round_seconds']:g} s "
                 + (f"of `{' '.join(_short_load(record['load']))}`" if record["load"]
                    else "without load")
                 + f", each read {record['settle_seconds']:g} s after its load ended; "
                 f"{record['warmup_rounds']} of warm-up.")
    if record.get("stopped_early"):
        lines.append(f"Stopped early by {record['stopped_early']}: judged on the rounds done.")
    # loadgen's exit 3: it shed starts (a busy machine); the round's load was lighter.
    shed = [str(r["round"]) for r in rounds if r.get("loadgen_status") == 3]
    if shed:
        lines.append(f"loadgen shed starts in round {', '.join(shed)} (exit 3): that load was "
                     "lighter than asked.")
    lines.append("")
    for v in verdicts:
        lines.append(f"- **{_title(v)}**: {v.reason}.")
    if heap_note:
        lines.append(f"- **heap in use**: {heap_note}.")
    lines.append("")
    lines.append(f"Rule: {growth.RULE}. Tolerance: {verdicts[0].tolerance}.")
    lines.append("")
    by_name = {v.name: v for v in verdicts}
    header = ["round", "", "RSS", "RSS step"]
    if "heap" in by_name:
        header += ["heap in use", "heap step"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["------:", ":---", "----:", "----:"]
                                + (["----:", "----:"] if "heap" in by_name else [])) + "|")
    for i, r in enumerate(rounds):
        row = [str(r["round"]), "warm-up" if i < record["warmup_rounds"] else ""]
        for name in ("rss", "heap"):
            v = by_name.get(name)
            if v is None:
                continue
            row.append(show(v.values[i], "bytes"))
            row.append("" if i == 0 else _signed(v.values[i] - v.values[i - 1]))
        lines.append("| " + " | ".join(row) + " |")
    if sites is not None:
        lines.append("")
        if sites:
            lines.append("Allocation sites whose bytes in use grew after the warm-up "
                         "(heaptrack, Theil-Sen slope over the rounds):")
            lines.append("")
            lines.append("| growth a round | in use, first -> last | site | called from |")
            lines.append("|------:|------:|:---|:---|")
            for slope, first, last, site, caller in sites[:TOP_SITES]:
                lines.append(f"| {_signed(slope)} | {show(first, 'bytes')} -> "
                             f"{show(last, 'bytes')} | {_cell(site)} | "
                             f"{_cell(caller) if caller else ''} |")
        else:
            lines.append("No allocation site's bytes in use grew after the warm-up (heaptrack).")
    return "\n".join(lines) + "\n"


def write(out_dir, record, verdicts, sites, heaptrack_file=None, heap_note=None, prefix=None):
    """Writes metrics.json, files.json and summary.md into out_dir; returns
    the summary's text."""
    text = summary(record, verdicts, sites, heap_note)
    files = []
    if heaptrack_file:
        files.append({"kind": "heaptrack", "path": _relative(heaptrack_file, out_dir),
                      "title": "heaptrack data of the leakcheck run (heaptrack_gui FILE)"})
    outdir.write(out_dir, metrics(verdicts, prefix), text, files,
                 summary_title="leakcheck: growth over rounds")
    return text


def _title(v):
    return {"rss": "RSS", "heap": "heap in use"}.get(v.name, v.name)


def _signed(value):
    text = show(value, "bytes")
    return f"+{text}" if value > 0 else text


def short_function(name):
    """A C++ function's name without template arguments or parameter types
    (file:line beside it tells overloads apart), as heaptrack_print's
    --shorten-templates does: std::vector<int>::push_back(int const&) ->
    std::vector<>::push_back(...)."""
    out, depth, i = [], 0, 0
    while i < len(name):
        ch = name[i]
        op = _OPERATOR.match(name, i) if not depth and "".join(out).endswith("operator") else None
        if op:  # operator<< is not a template's <
            out.append(op.group())
            i = op.end()
            continue
        i += 1
        if ch == "<":
            depth += 1
            if depth == 1:
                out.append("<>")
        elif ch == ">" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    text = "".join(out)
    m = re.search(r"\)(\s*(const|volatile|&|&&|noexcept))*\s*$", text)
    if m:
        close, depth = m.start(), 0
        for i in range(close, -1, -1):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth == 0:
                if close > i + 1:
                    text = text[:i + 1] + "..." + text[close:]
                break
    return text if len(text) <= _MAX_NAME else text[:_MAX_NAME] + "..."


def _cell(frame):
    where = f" ({Path(frame.file).name}:{frame.line})" if frame.file else ""
    text = short_function(frame.function) + where
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _short_load(argv):
    """loadgen's options as given, without its path and what each round adds."""
    words = list(argv)
    if words and words[0].endswith("loadgen"):
        words[0] = "loadgen"
    return [w for w in words if w not in ("--quiet", "-q")]


def _relative(path, base):
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)
