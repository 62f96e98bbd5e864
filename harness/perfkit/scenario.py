"""A scenario, read from TOML: the system under test, how to tell it is ready,
the phases with their load, the sampling, and the benchmarks to run.

    name = "redis"
    [sut]
    command = ["redis-server", "--port", "0", "--unixsocket", "{tmp}/redis.sock"]
    ready = { socket = "{tmp}/redis.sock", timeout_s = "10s" }
    [sampling]
    hz = 100
    [[phases]]
    name = "idle"
    seconds = 3
    [[phases]]
    name = "load"
    seconds = 10
    load = { count = 1000 }           # loadgen run --count 1000 ..., held for the phase
    profile = "perf"                  # or "heaptrack": profiling/perf.sh --pid SUT for the phase
    [[phases.benchmarks]]
    name = "set-get"
    command = ["redis-benchmark", "-s", "{tmp}/redis.sock", "--csv"]
    format = "redis-benchmark"
    repetitions = 3

Placeholders in commands and paths: {tmp} (the run's private directory),
{bin} (the build's binaries), {repo} (the repository holding the scenario),
{port} (a TCP port free on 127.0.0.1 when the run starts); in benchmarks also
{out} (a file for the tool's JSON) and {repetitions}. A literal brace is
written twice: {{ and }}. Every error names the key it is about.

A duration (seconds, delay_s, timeout_s, ..., and a load's burst_interval and
churn_life_*) is a number of seconds or a string with its unit: "500ms", "2s",
"1.5m", "1h".

A SUT that daemonizes (forks, and its first process exits) names its pidfile:
ready = { pidfile = "{tmp}/d.pid" }: the run follows the process it names.
"""
import re
import signal
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

# How each benchmark format gets its repetitions: the tool itself repeats
# (and writes every repetition into {out}), or the runner runs it again.
# wrk, lines and metrics-json are read from the output (stdout and stderr
# together), one process run per repetition.
BENCH_FORMATS = {"google-benchmark": "tool", "hyperfine": "tool", "pytest-benchmark": "tool",
                 "redis-benchmark": "runner", "wrk": "runner", "lines": "runner",
                 "metrics-json": "runner", "time": "runner"}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class ScenarioError(ValueError):
    """A scenario file that cannot be run as written."""


@dataclass
class Ready:
    socket: str | None = None      # a Unix socket that accepts a connection
    tcp: str | None = None         # host:port on loopback that accepts a connection
    file: str | None = None        # a file that exists
    pidfile: str | None = None     # a daemon's: the SUT is the process it names
    delay_s: float = 0.0           # then (or only) wait this long
    timeout_s: float = 10.0


@dataclass
class Sut:
    command: list[str]
    ready: Ready
    stop_signal: int = signal.SIGTERM
    stop_timeout_s: float = 10.0
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Sampling:
    hz: float = 100.0
    children: bool = False
    pss: bool | None = None
    tree_hz: float = 1.0


@dataclass
class Benchmark:
    name: str
    command: list[str]
    format: str = "time"
    repetitions: int = 1
    timeout_s: float = 600.0


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    load: dict | None = None          # loadgen run options, e.g. {count = 1000, kind = "sleep"}
    load_ready_timeout_s: float = 60.0
    command: list[str] | None = None  # a client run for the phase, stopped at its end
    until: str = "time"               # "exit": the phase lasts until command exits
    benchmarks: list[Benchmark] = field(default_factory=list)
    profile: str | None = None        # a profiler attached to the SUT for the phase


@dataclass
class Scenario:
    name: str
    sut: Sut
    phases: list[Phase]
    sampling: Sampling = field(default_factory=Sampling)
    description: str = ""
    path: Path | None = None


def _table(doc, where, required=(), optional=()):
    if not isinstance(doc, dict):
        raise ScenarioError(f"{where}: expected a table, found {type(doc).__name__}")
    unknown = set(doc) - set(required) - set(optional)
    if unknown:
        raise ScenarioError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                            f"(known: {', '.join(sorted((*required, *optional)))})")
    for key in required:
        if key not in doc:
            raise ScenarioError(f"{where}: {key!r} is required")
    return doc


def _typed(value, kind, where):
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ScenarioError(f"{where}: expected {kind.__name__}, found {value!r}")
    return value


def _positive(value, where, allow_zero=False):
    value = _typed(value, float, where)
    return _at_least_zero(value, where, allow_zero)


def _at_least_zero(value, where, allow_zero):
    if value < 0 or (value == 0 and not allow_zero):
        raise ScenarioError(f"{where}: must be {'>= 0' if allow_zero else '> 0'}, found {value}")
    return value


_UNITS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*")


def duration(value, where, allow_zero=False):
    """Seconds from a number of seconds or a string with a unit ("500ms", "2s",
    "1m", "1h"; a bare number is seconds)."""
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value)):
        seconds = float(m[1]) * _UNITS[m[2] or "s"]
    if seconds is None or seconds != seconds or seconds == float("inf"):
        raise ScenarioError(f"{where}: {value!r} is not a duration: write seconds (2, 0.5) "
                            "or a number with ms, s, m or h (\"500ms\", \"2s\", \"1m\")")
    return _at_least_zero(seconds, where, allow_zero)


def _argv(value, where):
    if (not isinstance(value, list) or not value
            or not all(isinstance(a, str) for a in value)):
        raise ScenarioError(f"{where}: expected a non-empty list of strings (an argv)")
    return value


def _name(value, where):
    value = _typed(value, str, where)
    if not value or not all(c.isalnum() or c in "_-" for c in value):
        raise ScenarioError(f"{where}: {value!r}: use letters, digits, '-' and '_' only")
    return value


# What placeholders stand for when a scenario is checked before any run.
_RUN_PLACEHOLDERS = ("tmp", "bin", "repo", "port")
_BENCH_PLACEHOLDERS = _RUN_PLACEHOLDERS + ("out", "repetitions")


def _checked(args, where, known=_RUN_PLACEHOLDERS):
    """args with their placeholders expanded to dummies: an unknown one, or a
    lone brace, is an error naming the key now, not in the middle of a run."""
    dummies = Placeholders({k: "1" for k in known})
    try:
        return [a.format_map(dummies) for a in args]
    except ScenarioError as e:
        raise ScenarioError(f"{where}: {e}") from None
    except (ValueError, IndexError) as e:
        raise ScenarioError(f"{where}: {e} (a literal brace is written {{{{ or }}}})") from None


def _ready(doc, where):
    _table(doc, where, optional=("socket", "tcp", "file", "pidfile", "delay_s", "timeout_s"))
    r = Ready(socket=doc.get("socket"), tcp=doc.get("tcp"), file=doc.get("file"),
              pidfile=doc.get("pidfile"),
              delay_s=duration(doc.get("delay_s", 0.0), f"{where}.delay_s", allow_zero=True),
              timeout_s=duration(doc.get("timeout_s", 10.0), f"{where}.timeout_s"))
    for key in ("socket", "file", "pidfile"):
        if getattr(r, key) is not None:
            _checked([_typed(getattr(r, key), str, f"{where}.{key}")], f"{where}.{key}")
    if r.tcp is not None:
        tcp = _checked([_typed(r.tcp, str, f"{where}.tcp")], f"{where}.tcp")[0]
        host, _, port = tcp.rpartition(":")
        if host.strip("[]") not in LOOPBACK or not port.isdigit():
            raise ScenarioError(f"{where}.tcp: {r.tcp!r}: must be a loopback host:port "
                                "(load stays on this machine)")
    if not (r.socket or r.tcp or r.file or r.pidfile or r.delay_s):
        raise ScenarioError(f"{where}: say how to tell it is ready: socket, tcp, file, pidfile "
                            "or delay_s")
    return r


def _benchmark(doc, where):
    _table(doc, where, required=("name", "command"),
           optional=("format", "repetitions", "timeout_s"))
    b = Benchmark(name=_name(doc["name"], f"{where}.name"),
                  command=_argv(doc["command"], f"{where}.command"),
                  format=doc.get("format", "time"),
                  repetitions=_typed(doc.get("repetitions", 1), int, f"{where}.repetitions"),
                  timeout_s=duration(doc.get("timeout_s", 600.0), f"{where}.timeout_s"))
    if b.format not in BENCH_FORMATS:
        raise ScenarioError(f"{where}.format: {b.format!r} is not one of "
                            f"{', '.join(BENCH_FORMATS)}")
    if b.repetitions < 1:
        raise ScenarioError(f"{where}.repetitions: must be >= 1")
    _checked(b.command, f"{where}.command", _BENCH_PLACEHOLDERS)
    if BENCH_FORMATS[b.format] == "tool" and not any("{out}" in a for a in b.command):
        raise ScenarioError(f"{where}.command: a {b.format} benchmark writes its JSON to {{out}}; "
                            "the command must name it")
    return b


def _phase(doc, where):
    _table(doc, where, required=("name",),
           optional=("seconds", "load", "load_ready_timeout_s", "command", "until", "benchmarks",
                     "profile"))
    p = Phase(name=_name(doc["name"], f"{where}.name"),
              seconds=duration(doc.get("seconds", 0.0), f"{where}.seconds", allow_zero=True),
              load=doc.get("load"),
              load_ready_timeout_s=duration(doc.get("load_ready_timeout_s", 60.0),
                                            f"{where}.load_ready_timeout_s"),
              command=_argv(doc["command"], f"{where}.command") if "command" in doc else None,
              until=doc.get("until", "time"),
              profile=doc.get("profile"))
    if p.profile is not None and p.profile not in PROFILERS:
        raise ScenarioError(f"{where}.profile: {p.profile!r} is not one of {', '.join(PROFILERS)}")
    if p.command:
        _checked(p.command, f"{where}.command")
    if p.load is not None:
        _table(p.load, f"{where}.load", required=("count",), optional=LOADGEN_OPTIONS)
        for key in LOADGEN_DURATIONS:  # handed to loadgen as plain seconds
            if key in p.load:
                p.load[key] = duration(p.load[key], f"{where}.load.{key}", allow_zero=True)
        if p.load.get("profile", "steady") not in STANDING_PROFILES:
            raise ScenarioError(f"{where}.load.profile: a phase holds a standing load "
                                f"({', '.join(STANDING_PROFILES)}); ramp and spike shape "
                                "theirs over a duration of their own")
    if p.until not in ("time", "exit"):
        raise ScenarioError(f"{where}.until: 'time' or 'exit', found {p.until!r}")
    if p.until == "exit" and p.command is None:
        raise ScenarioError(f"{where}.until: 'exit' needs a command to wait for")
    benches = doc.get("benchmarks", [])
    if not isinstance(benches, list):
        raise ScenarioError(f"{where}.benchmarks: expected an array of tables ([[...benchmarks]])")
    p.benchmarks = [_benchmark(b, f"{where}.benchmarks[{i}]") for i, b in enumerate(benches)]
    if not p.seconds and not p.benchmarks and p.until == "time":
        raise ScenarioError(f"{where}: give it seconds, benchmarks or until = 'exit'")
    names = [b.name for b in p.benchmarks]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{where}.benchmarks: names repeat")
    return p


# What a phase's `profile` may name: the wrapper in profiling/ that attaches to
# the SUT for the phase (profiling/README.md).
PROFILERS = {"perf": "perf.sh", "heaptrack": "heaptrack.sh"}

# Profiles that reach their count and hold it until stopped; the phase begins then.
STANDING_PROFILES = ("steady", "burst", "churn")
# `loadgen run` options a phase's load may set (besides count), as in its --help.
LOADGEN_OPTIONS = ("count", "profile", "rate", "kind", "spawner", "cpu_share", "mem_bytes",
                   "tree_depth", "tree_fanout", "burst_size", "burst_interval", "spike_base",
                   "churn_life_min", "churn_life_max", "seed")
LOADGEN_DURATIONS = ("burst_interval", "churn_life_min", "churn_life_max")


def parse(doc, path=None):
    """A Scenario from the TOML document (a dict); raises ScenarioError."""
    _table(doc, "scenario", required=("name", "sut", "phases"),
           optional=("description", "sampling"))
    sut = _table(doc["sut"], "sut", required=("command", "ready"),
                 optional=("stop_signal", "stop_timeout_s", "env"))
    stop_signal = sut.get("stop_signal", "SIGTERM")
    try:
        stop_signal = signal.Signals[stop_signal] if isinstance(stop_signal, str) else None
    except KeyError:
        stop_signal = None
    if stop_signal is None:
        raise ScenarioError(f"sut.stop_signal: {sut.get('stop_signal')!r} is not a signal name")
    env = sut.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ScenarioError("sut.env: expected a table of strings")
    sampling = _table(doc.get("sampling", {}), "sampling",
                      optional=("hz", "children", "pss", "tree_hz"))
    s = Sampling(hz=_positive(sampling.get("hz", 100.0), "sampling.hz"),
                 children=_typed(sampling.get("children", False), bool, "sampling.children"),
                 pss=(_typed(sampling["pss"], bool, "sampling.pss") if "pss" in sampling
                      else None),
                 tree_hz=_positive(sampling.get("tree_hz", 1.0), "sampling.tree_hz"))
    if not 1 <= s.hz <= 10_000:
        raise ScenarioError(f"sampling.hz: must be in [1, 10000], found {s.hz}")
    _checked(_argv(sut["command"], "sut.command"), "sut.command")
    phases = doc["phases"]
    if not isinstance(phases, list) or not phases:
        raise ScenarioError("phases: expected at least one [[phases]] table")
    scenario = Scenario(
        name=_name(doc["name"], "name"),
        description=_typed(doc.get("description", ""), str, "description"),
        sut=Sut(command=_argv(sut["command"], "sut.command"),
                ready=_ready(sut["ready"], "sut.ready"), stop_signal=stop_signal,
                stop_timeout_s=duration(sut.get("stop_timeout_s", 10.0), "sut.stop_timeout_s"),
                env=env),
        sampling=s,
        phases=[_phase(p, f"phases[{i}]") for i, p in enumerate(phases)],
        path=Path(path) if path else None)
    names = [p.name for p in scenario.phases]
    if len(set(names)) != len(names):
        raise ScenarioError("phases: names repeat")
    return scenario


def load(path):
    """Reads and checks a scenario file; raises ScenarioError (with the path)."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise ScenarioError(f"{path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not TOML: {e}") from e
    try:
        return parse(doc, path)
    except ScenarioError as e:
        raise ScenarioError(f"{path}: {e}") from None


def with_profiles(scenario, asked):
    """The scenario with phase profiles set from `PHASE=TOOL` strings (perfkit
    run --profile), over what its file says; raises ScenarioError naming a bad one."""
    phases = {p.name: p for p in scenario.phases}
    chosen = {}
    for item in asked:
        name, _, tool = item.partition("=")
        if name not in phases:
            raise ScenarioError(f"{item!r}: no phase {name!r} in scenario {scenario.name!r}; "
                                f"its phases: {', '.join(phases)}")
        if tool not in PROFILERS:
            raise ScenarioError(f"{item!r}: write PHASE=TOOL, TOOL one of {', '.join(PROFILERS)}")
        chosen[name] = tool
    return replace(scenario, phases=[replace(p, profile=chosen.get(p.name, p.profile))
                                     for p in scenario.phases])


def only_phases(scenario, names):
    """The scenario with only the phases named, in the scenario's order (not
    the order given): a quick form of a test then measures the same metrics,
    by the same names, as the whole scenario. The scenario itself is left as
    it was. An unknown name, a name given twice, or none at all raises
    ScenarioError."""
    names = list(names)
    known = [p.name for p in scenario.phases]
    if not names:
        raise ScenarioError("name at least one phase to run")
    for name in names:
        if name not in known:
            raise ScenarioError(f"no phase {name!r} in scenario {scenario.name!r}; "
                                f"its phases: {', '.join(known)}")
        if names.count(name) > 1:
            raise ScenarioError(f"phase {name!r} is named twice")
    return replace(scenario, phases=[p for p in scenario.phases if p.name in names])


class Placeholders(dict):
    """str.format_map values that name the unknown placeholder when one is used."""

    def __missing__(self, key):
        raise ScenarioError(f"unknown placeholder {{{key}}} (known: "
                            f"{', '.join('{' + k + '}' for k in sorted(self))})")


def expand(args, values):
    return [a.format_map(values) for a in args]
