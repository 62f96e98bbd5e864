"""The runner's tests' fixture (see runner_support.py), for every test here."""
from runner_support import perfkit_cli  # noqa: F401 (a fixture, registered by being imported)
