"""The error a run ends with when it fails (the runner's and the SUT's)."""


class RunError(RuntimeError):
    """The scenario ran but failed: not ready in time, a crash, a failed benchmark."""
