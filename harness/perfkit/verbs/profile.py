"""`perfkit profile TOOL ...`: what the wrappers in profiling/ call to turn a
profiler's raw output into perfkit metrics, summaries and flame graphs. Each
tool is a module of its own, verbs/profile_<tool>.py, with `register(sub)`;
the logic is in perfkit/profiles/."""
import importlib
import pkgutil
from pathlib import Path

NEEDS = {}


def _tools():
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)])
                  if m.name.startswith("profile_"))


def register(sub):
    p = sub.add_parser(
        "profile", help="turn a profiler's output into metrics, summaries and flame graphs",
        description="What profiling/*.sh and etw.ps1 call: reads what perf, heaptrack, "
                    "callgrind, Instruments and ETW wrote into perfkit metrics "
                    "({\"metrics\": [...]}, which `perfkit import metrics-json FILE -o "
                    "RUN.json` reads), summaries and flame graphs; records with heaptrack; "
                    "judges growth over rounds (leakcheck.sh).")
    tools = p.add_subparsers(dest="tool", metavar="TOOL", required=True)
    for name in _tools():
        importlib.import_module(f".{name}", __package__).register(tools)
    return p
