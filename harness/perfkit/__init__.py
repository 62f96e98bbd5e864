"""perfkit: measures a daemon's speed and size and keeps them from regressing.

Grows by issue: the pybind11 sampler, the run format, the runner, the
comparator and the reports. See ../README.md.
"""

__version__ = "0.1.0"

from .sampler import Sampler  # noqa: E402  (the native module is built, not installed)

__all__ = ["Sampler", "__version__"]
