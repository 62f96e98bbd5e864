"""PROCMOND_DELIBERATE_SLOWDOWN_NS and PROCMOND_DELIBERATE_LEAK_BYTES as
procmond's commands take them: a bad value is a bad argument, said in one line
(exit 2) before the daemon touches its socket; a good one only slows or leaks
(the perf suite's test_regression_is_caught.py and profiling/leakcheck.sh's
own test show what each does)."""
import json
import os
import subprocess

import pytest

KNOBS = {  # variable: (a bad value, what is said of it, a good value)
    "PROCMOND_DELIBERATE_SLOWDOWN_NS": ("2us", "not a whole number of nanoseconds", "1000"),
    "PROCMOND_DELIBERATE_LEAK_BYTES": (
        "256KB", "not a whole number of bytes, optionally with K, M or G (units of 1024)", "256K"),
}


@pytest.mark.parametrize("var", KNOBS)
@pytest.mark.parametrize("command", ["snapshot", "run"])
def test_a_bad_value_is_one_line_and_exit_2(bin_dir, tmp_path, command, var):
    bad, said, _ = KNOBS[var]
    args = {"snapshot": ["snapshot"],
            "run": ["run", "--socket", str(tmp_path / "s"), "--data-dir", str(tmp_path / "d"),
                    "--connector", "off"]}[command]
    r = subprocess.run([str(bin_dir / "procmond"), *args], capture_output=True, text=True,
                       timeout=30, env={**os.environ, var: bad})
    assert r.returncode == 2, r.stderr
    prefix = "procmond snapshot" if command == "snapshot" else "procmond"
    assert r.stderr.splitlines() == [
        f'{prefix}: {var}="{bad}": {said} (unset, empty or 0 for none)'], r.stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("var", KNOBS)
def test_a_good_value_changes_no_reading(bin_dir, var):
    r = subprocess.run([str(bin_dir / "procmond"), "snapshot", "--json"], capture_output=True,
                       text=True, timeout=60, env={**os.environ, var: KNOBS[var][2]})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["count"] > 0
