"""`pip install --no-build-isolation .` works offline with Debian's setuptools,
and the installed perfkit (schema, native module, command) works away from the
repository. Installs from a copy into a throwaway venv: the repository and the
system stay untouched."""
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PY = "/usr/bin/python3"


def test_pip_install_offline_into_a_venv(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copy(REPO / "README.md", src)
    shutil.copytree(REPO / "harness" / "perfkit", src / "harness" / "perfkit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([PY, "-m", "venv", "--system-site-packages", "--without-pip", venv], check=True)
    r = subprocess.run([PY, "-m", "pip", "--python", venv / "bin" / "python", "install",
                        "--no-build-isolation", "--no-index", "--quiet", src],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([venv / "bin" / "perfkit", "--help"], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0 and "run" in r.stdout, r.stderr
    code = ("import os, perfkit, perfkit.runfile as rf\n"
            "assert perfkit.__file__.startswith(os.environ['VENV']), perfkit.__file__\n"
            "with perfkit.Sampler(os.getpid(), hz=50) as s: pass\n"
            "run = rf.new_run(build_dir='.')\n"
            "rf.add_metrics(run, [rf.metric('x', 's', 'lower', [1.0])])\n"
            "rf.validate(run)\n"
            "print(s.summary()['samples'])")
    r = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True,
                       cwd=tmp_path, env={"VENV": str(venv), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) >= 1
