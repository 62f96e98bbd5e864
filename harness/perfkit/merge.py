"""Runs of one build on one machine joined into one: each metric keeps every
sample, and which process run gave it, so the comparator sees how runs differ
from one another and not only how repetitions inside one run do."""
from . import runfile
from .attachments import union


class MergeError(ValueError):
    """Runs that are not of the same build on the same machine, or whose
    metrics disagree on what they measure."""


def merge_runs(runs):
    """Joins runs (dicts) in order; the first gives machine, revision, start
    and scenario. A metric's unit and direction must agree wherever it occurs."""
    if not runs:
        raise MergeError("nothing to merge")
    first = runs[0]
    for run in runs:
        if run["machine"]["fingerprint"] != first["machine"]["fingerprint"]:
            raise MergeError(f"runs of different machines ({first['machine']['fingerprint']} "
                             f"and {run['machine']['fingerprint']}) do not merge")
    out = {k: v for k, v in first.items() if k not in ("metrics", "phases", "attachments")}
    out["metrics"] = merge_metrics([run["metrics"] for run in runs])
    atts = union(*(run.get("attachments", []) for run in runs))
    if atts:
        out["attachments"] = atts
    if "phases" in first:
        out["phases"] = first["phases"]
    return out


def merge_metrics(metric_lists):
    """Lists of metrics, each of its own process runs (an imported file, a
    benchmark's repetition), joined: a metric in several lists gets the samples
    of each as more process runs."""
    out, by_name = [], {}
    for metrics in metric_lists:
        for m in metrics:
            have = by_name.get(m["name"])
            if have is None:
                have = {**m, "samples": [], "runs": []}
                by_name[m["name"]] = have
                out.append(have)
            elif (have["unit"], have["better"]) != (m["unit"], m["better"]):
                raise MergeError(f"{m['name']}: {have['unit']}, {have['better']} is better in one "
                                 f"run; {m['unit']}, {m['better']} in another")
            have["samples"] += m["samples"]
            have["runs"] += [len(g) for g in runfile.groups(m)]
    return out
