"""perfkit's command line: one verb per module in verbs/. Exit status is each
verb's own (see its --help); 2 is always bad arguments or bad input."""
import argparse
import importlib
import keyword
import importlib.util
import sys

from . import __version__

# In the order --help lists them.
VERBS = ["run", "compare", "report", "baseline", "history", "import", "export", "profile"]


def _parser():
    p = argparse.ArgumentParser(
        prog="python3 -m perfkit",
        description="Measures a daemon's speed and size and keeps them from regressing.")
    p.add_argument("--version", action="version", version=f"perfkit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for verb in VERBS:
        module = verb.replace("-", "_")
        module += "_" * keyword.iskeyword(module)  # import -> import_
        importlib.import_module(f".verbs.{module}", __package__).register(sub)
    return p


def _missing(needs):
    """Debian's packages of the modules a verb needs that this interpreter lacks."""
    return [pkg for mod, pkg in needs.items() if importlib.util.find_spec(mod) is None]


def main(argv=None):
    args = _parser().parse_args(argv)
    missing = _missing(args.needs)
    if missing:
        print(f"perfkit: {sys.executable} lacks {', '.join(missing)}: run it with /usr/bin/python3, "
              f"or apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    return args.main(args)
