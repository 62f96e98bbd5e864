"""collectors_side_by_side.py on a small load: a line per window for each
collector, and nothing of its own left running."""
import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

SCRIPT = Path(__file__).with_name("collectors_side_by_side.py")
pytestmark = pytest.mark.spawns


def test_a_line_per_window_and_no_child_left(bin_dir):
    r = subprocess.run([sys.executable, SCRIPT, "--bin-dir", bin_dir, "--count", "20",
                        "--windows", "2", "--window", "1", "--settle", "1.5"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["window 1", "window 2"]
    for line in lines:
        assert re.search(r"proc [0-9.]+ % of a core, RSS [0-9.]+ MB", line), line
    assert not psutil.Process().children(recursive=True)
