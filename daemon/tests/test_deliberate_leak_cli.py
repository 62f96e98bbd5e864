"""PROCMOND_DELIBERATE_LEAK_BYTES as procmond's commands take it: a bad value
is a bad argument, said in one line (exit 2) before the daemon touches its
socket; a good one only leaks (profiling/leakcheck.sh's own test shows the
daemon growing with it)."""
import json
import os
import subprocess

import pytest

VAR = "PROCMOND_DELIBERATE_LEAK_BYTES"


@pytest.mark.parametrize("command", ["snapshot", "run"])
def test_a_bad_value_is_one_line_and_exit_2(bin_dir, tmp_path, command):
    args = {"snapshot": ["snapshot"],
            "run": ["run", "--socket", str(tmp_path / "s"), "--data-dir", str(tmp_path / "d"),
                    "--connector", "off"]}[command]
    r = subprocess.run([str(bin_dir / "procmond"), *args], capture_output=True, text=True,
                       timeout=30, env={**os.environ, VAR: "256KB"})
    assert r.returncode == 2, r.stderr
    prefix = "procmond snapshot" if command == "snapshot" else "procmond"
    assert r.stderr.splitlines() == [
        f'{prefix}: {VAR}="256KB": not a whole number of bytes, optionally with K, M or G '
        '(units of 1024) (unset, empty or 0 for none)'], r.stderr
    assert not (tmp_path / "s").exists()


def test_a_good_value_only_leaks(bin_dir):
    r = subprocess.run([str(bin_dir / "procmond"), "snapshot", "--json"], capture_output=True,
                       text=True, timeout=60, env={**os.environ, VAR: "256K"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["count"] > 0
