"""perfkit: measures a daemon's speed and size and keeps them from regressing.

Grows by issue: the pybind11 sampler, the run format, the runner, the
comparator and the reports. See ../README.md.
"""

__version__ = "0.1.0"
__all__ = ["Sampler", "__version__"]


def __getattr__(name):
    # Imported on first use, so `python3 -m perfkit --help` works before the
    # native module is built.
    if name == "Sampler":
        from .sampler import Sampler
        return Sampler
    raise AttributeError(f"module 'perfkit' has no attribute {name!r}")
