"""A phase's load: loadgen run with the phase's options (its command line),
waited for until the full count stands, held until the phase ends, stopped,
and its summary read into metrics."""
import json
import signal
import time

from . import importers
from .errors import RunError
from .processes import wait_for


class Load:
    def __init__(self, run, phase):
        """run: the runner's run (its tmp, build_dir, start, children, sut, progress)."""
        self.run, self.phase = run, phase
        self.ready = run.tmp / f"{phase.name}.loadgen-ready.json"
        self.summary = run.tmp / f"{phase.name}.loadgen.json"
        self.child = None

    def start(self):
        """Returns once loadgen's ready file shows the full count alive."""
        run, phase = self.run, self.phase
        argv = [run.build_dir / "bin" / "loadgen", "run", "--quiet", "--duration", "1e9",
                "--ready-file", self.ready, "--json", self.summary]
        for key, value in phase.load.items():
            argv += [f"--{key.replace('_', '-')}", value]
        load = self.child = run.start(f"{phase.name}.loadgen", argv)
        started = time.monotonic()
        if not wait_for(self.ready.exists, phase.load_ready_timeout_s,
                        alive=lambda: load.running() and run.sut.running()):
            run.sut.check(f"while the load of phase {phase.name} came up")
            raise RunError(f"phase {phase.name}: the load was not up within "
                           f"{phase.load_ready_timeout_s} s; loadgen said:\n{load.log_tail()}")
        live = json.loads(self.ready.read_text())["live"]
        if live < phase.load["count"]:  # every start done, some failed: not the load asked for
            raise RunError(f"phase {phase.name}: loadgen has {live} of the "
                           f"{phase.load['count']} processes asked up; loadgen said:\n"
                           f"{load.log_tail()}")
        run.progress.say(f"  load up: {live} processes in {time.monotonic() - started:.2f} s")
        return self

    def stop(self):
        """Stops it and returns loadgen's figures as metrics."""
        status = self.run.children.stop(self.child, signal.SIGTERM, timeout_s=60)
        # Stopped by our SIGTERM (128 + 15) is how a held load ends.
        if status not in (0, 128 + signal.SIGTERM, -signal.SIGTERM) or not self.summary.exists():
            raise RunError(f"phase {self.phase.name}: loadgen ended with status {status}:\n"
                           f"{self.child.log_tail()}")
        return importers.from_loadgen([self.summary], prefix=f"{self.phase.name}.loadgen")
