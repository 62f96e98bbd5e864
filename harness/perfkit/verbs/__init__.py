"""perfkit's verbs, one module each: `register(subparsers)` adds its parser
(and its `main(args)` as the parser's default `main`); `NEEDS` names the
modules it imports beyond the standard library."""

import subprocess
from pathlib import Path

# Modules a verb may import beyond the standard library, and Debian's package
# of each: what reads or writes a run file, and what does statistics.
RUN_FILES = {"psutil": "python3-psutil", "jsonschema": "python3-jsonschema"}
STATISTICS = {"numpy": "python3-numpy", "scipy": "python3-scipy"}


def work_tree(directory):
    """The top of the git work tree holding `directory`, or None outside one."""
    try:
        top = subprocess.run(["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True)
        return Path(top.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None
