"""A profiler attached to the system under test for one phase (a phase's
`profile = "perf"` or `"heaptrack"`): profiling/<tool>.sh --pid SUT, started
before the phase's clock and stopped with SIGTERM at its end; its metrics
become PHASE.profile.* of the run and its files (a flame graph, heaptrack's
data and summary) the run's attachments, which reports link.

The phase's own SUT figures then include the profiler's cost (perf's
sampling, heaptrack's hooks on every allocation): profile a phase of its own,
not one whose figures are judged."""
import json
import os
import time
from pathlib import Path

from .errors import RunError
from .importers.generic import from_metrics_json
from .processes import wait_for
from .scenario import PROFILERS

# Attaching heaptrack goes through gdb (seconds); writing a flame graph or a
# heaptrack summary of a long phase takes a while too.
ATTACH_TIMEOUT_S = 120.0
FINISH_TIMEOUT_S = 600.0


def profiling_dir():
    """The wrappers: $PERFKIT_PROFILING_DIR, else profiling/ of this checkout."""
    where = os.environ.get("PERFKIT_PROFILING_DIR")
    return Path(where) if where else Path(__file__).resolve().parents[2] / "profiling"


class PhaseProfile:
    def __init__(self, run, phase, out_dir):
        """run: the runner's _Run (start(), children, sut, progress); out_dir:
        where the wrapper's files go (kept after the run)."""
        self.run, self.phase, self.out = run, phase, Path(out_dir)
        self.script = profiling_dir() / PROFILERS[phase.profile]
        self.child = None

    def start(self):
        """Starts the wrapper and returns once it says it is recording."""
        if not os.access(self.script, os.X_OK):
            raise RunError(f"phase {self.phase.name}: profile {self.phase.profile!r} needs "
                           f"{self.script}, which is missing or not executable "
                           "(set PERFKIT_PROFILING_DIR to the repository's profiling/)")
        self.out.mkdir(parents=True, exist_ok=True)
        marker = self.out / "recording"
        marker.unlink(missing_ok=True)
        self.run.progress.say(f"phase {self.phase.name}: attaching {self.phase.profile} "
                              f"to pid {self.run.sut.pid}")
        self.child = self.run.start(
            f"{self.phase.name}.profile",
            [str(self.script), "--pid", str(self.run.sut.pid), "-o", str(self.out),
             "--prefix", f"{self.phase.name}.profile"])
        started = time.monotonic()
        if not wait_for(marker.exists, ATTACH_TIMEOUT_S, step_s=0.05, alive=self.child.running):
            self._failed("did not start recording"
                         + ("" if self.child.running() else " (it exited)"))
        self.run.progress.say(f"phase {self.phase.name}: {self.phase.profile} recording "
                              f"after {time.monotonic() - started:.1f} s")

    def stop(self):
        """Stops the wrapper (SIGTERM: stop recording, then write), and returns
        (metrics, attachments) of what it wrote."""
        self.run.progress.say(f"phase {self.phase.name}: stopping {self.phase.profile}, "
                              "writing its summary")
        status = self.run.children.stop(self.child, timeout_s=FINISH_TIMEOUT_S)
        if status != 0:
            self._failed(f"failed with status {status}")
        try:
            metrics = from_metrics_json(json.loads((self.out / "metrics.json").read_text()))
            files = json.loads((self.out / "files.json").read_text())
        except (OSError, ValueError) as e:
            self._failed(f"wrote no readable metrics.json and files.json: {e}")
        attachments = [{"kind": f["kind"], "name": self.phase.name,
                        "path": str((self.out / f["path"]).resolve()),
                        **({"title": f["title"]} if f.get("title") else {})}
                       for f in files]
        return metrics, attachments

    def _failed(self, what):
        raise RunError(f"phase {self.phase.name}: {self.script.name} {what}:\n"
                       f"{self.child.log_tail()}")
