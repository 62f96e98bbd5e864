"""The report as JUnit XML, so that any CI shows a regression as a failed
test: a test case per metric, in a suite per area; failed on a regression or a
missed target, skipped when undecided or when there was nothing to judge it by
(no baseline and no target)."""
import xml.etree.ElementTree as ET

from ..units import show
from ..verdict import INCONCLUSIVE, REGRESSION, TOO_FEW


def _case(suite, area, r):
    case = ET.SubElement(suite, "testcase", classname=area, name=r["name"], time="0")
    figures = f"now {show(r['now'], r['unit'])}, baseline {show(r['base'], r['unit'])}"
    if r["change"]:
        c = r["change"]
        figures += (f", change {c['change'] * 100:+.1f} % [{c['low'] * 100:+.1f}, "
                    f"{c['high'] * 100:+.1f}], p {c['p']:.3g}")
    failures = []
    if r["verdict"] == REGRESSION:
        failures.append(f"regression beyond its {r['threshold'] * 100:.0f} % threshold")
    if r["target_missed"]:
        bound = "at most" if r["better"] == "lower" else "at least"
        failures.append(f"missed its target: {bound} {show(r['target'], r['unit'])}")
    if failures:
        ET.SubElement(case, "failure", message="; ".join(failures),
                      type="regression" if r["verdict"] == REGRESSION else "target").text = figures
        return "failures"
    if r["verdict"] in (INCONCLUSIVE, TOO_FEW) or (r["change"] is None and r["target"] is None):
        ET.SubElement(case, "skipped", message=f"{r['verdict']}: {r['note'] or figures}")
        return "skipped"
    aim = "; our aim missed (a goal, not a failure)" if r["aim_missed"] else ""
    ET.SubElement(case, "system-out").text = figures + f"; {r['verdict']}{aim}"
    return None


def write(content, path):
    root = ET.Element("testsuites", name="perfkit")
    for t in content["tables"]:
        suite = ET.SubElement(root, "testsuite", name=t["area"])
        counts = {"tests": 0, "failures": 0, "skipped": 0, "errors": 0}
        for r in t["rows"]:
            counts["tests"] += 1
            outcome = _case(suite, t["area"], r)
            if outcome:
                counts[outcome] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
