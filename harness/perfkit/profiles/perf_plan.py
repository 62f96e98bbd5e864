"""What perf may do here, found out before recording: may this user profile
at all, the kernel too, this process; which counters the machine has (each
asked once, by one `perf stat -x, ... true`); and so which event to sample
and which to count. Whatever is left out is said, with why.

perf_event_paranoid (Documentation/admin-guide/perf-security.rst), for a
user without CAP_PERFMON or CAP_SYS_ADMIN: 2 allows only the user space of
the user's own processes, 1 the kernel too, 0 and -1 CPU-wide events; 3 and
above (a Debian/Ubuntu patch) allow nothing. kptr_restrict >= 1 hides kernel
symbol addresses from such a user (2: from everyone), so kernel frames go
unnamed. Whatever the setting, profiling another user's process takes the
right to ptrace it (root)."""
import json
import os
import pwd
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import perf_stat

CAP_SYS_ADMIN, CAP_PERFMON = 21, 38
ALLOW_ALL = "sysctl kernel.perf_event_paranoid=1 (kernel too; -1: also CPU-wide)"


class Refused(Exception):
    """perf may not profile here: the message says how to allow it (exit 2)."""


@dataclass
class System:
    """The facts the decision rests on (read from /proc, or given by a test)."""
    paranoid: int
    kptr_restrict: int
    uid: int
    caps: int  # CapEff
    user: str = ""

    @property
    def privileged(self):
        return self.uid == 0 or bool(self.caps & (1 << CAP_PERFMON | 1 << CAP_SYS_ADMIN))


@dataclass
class Plan:
    scope: str  # "all" (user and kernel) or "user"
    record_event: str
    stat_events: list
    left_out: list = field(default_factory=list)  # [{"what", "why"}]
    notes: list = field(default_factory=list)


def _read_int(path, default):
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def system():
    caps = 0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                caps = int(line.split()[1], 16)
    except OSError:
        pass
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    return System(paranoid=_read_int("/proc/sys/kernel/perf_event_paranoid", 2),
                  kptr_restrict=_read_int("/proc/sys/kernel/kptr_restrict", 1),
                  uid=uid, caps=caps, user=user)


def process_uid(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def access(sys_, target_uid=None):
    """(scope, notes) for this user, or Refused with the one line that says
    how to allow it."""
    if sys_.privileged:
        notes = []
        if sys_.kptr_restrict >= 2:
            notes.append("kernel frames go unnamed: kptr_restrict is 2 (sysctl "
                         "kernel.kptr_restrict=0 to name them)")
        return "all", notes
    if target_uid is not None and target_uid != sys_.uid:
        raise Refused(f"the process belongs to another user (uid {target_uid}) and {sys_.user} "
                      "may profile only its own: run as root (or give perf CAP_PERFMON)")
    if sys_.paranoid >= 3:
        raise Refused(f"kernel.perf_event_paranoid is {sys_.paranoid}: {sys_.user} may not use "
                      f"perf at all; as root: {ALLOW_ALL}, or run this as root")
    notes = []
    if sys_.paranoid == 2:
        notes.append(f"user space only: kernel.perf_event_paranoid is 2, so kernel frames and "
                     f"kernel-side counters are left out; as root: {ALLOW_ALL}")
        return "user", notes
    if sys_.kptr_restrict >= 1:
        notes.append(f"kernel frames go unnamed: kernel.kptr_restrict is {sys_.kptr_restrict}; "
                     "as root: sysctl kernel.kptr_restrict=0")
    return "all", notes


def probe(perf="perf", out=None, timeout=30):
    """Asks perf stat for every counter perf.sh wants, once, on `true`:
    [perf_stat.Counter]. Refused when perf may not count at all."""
    cmd = [perf, "stat", "-x,", "-e", ",".join(perf_stat.EVENTS), "true"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise Refused(f"{perf} is not installed: apt-get install linux-perf") from None
    except subprocess.TimeoutExpired:
        raise Refused(f"'{' '.join(cmd)}' took over {timeout} s") from None
    if out is not None:
        Path(out).write_text(r.stderr)
    counters = perf_stat.parse(r.stderr)
    if r.returncode != 0 or not counters:
        err = " ".join(r.stderr.split())[:300]
        if "paranoid" in err or "Permission denied" in err or "Access to performance" in err:
            raise Refused(f"perf may not count here ({err[:120]}...): as root: {ALLOW_ALL}")
        raise Refused(f"perf stat failed (exit {r.returncode}): {err}")
    return counters


def check_event(event, perf="perf", timeout=30):
    """A sampling event named by the user: asked once, like the counters.
    Refused when perf does not know it or the machine does not count it."""
    cmd = [perf, "stat", "-x,", "-e", event, "true"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Refused(f"'{' '.join(cmd)}' failed: {e}") from None
    counters = perf_stat.parse(r.stderr) if r.returncode == 0 else []
    if not counters:
        raise Refused(f"--event {event}: perf does not know it (perf list shows the events)")
    if counters[0].status == perf_stat.NOT_SUPPORTED:
        raise Refused(f"--event {event}: not supported here (perf stat -e {event} true says so)")


def check_freq(freq, max_rate):
    """perf record takes a frequency above the kernel's maximum and samples
    at what it can; a summary saying the asked rate would then be wrong."""
    if max_rate is not None and freq > max_rate:
        raise Refused(f"--freq {freq} is above kernel.perf_event_max_sample_rate ({max_rate}): "
                      f"ask for at most {max_rate}, or as root: sysctl "
                      f"kernel.perf_event_max_sample_rate={freq}")


def max_sample_rate():
    return _read_int("/proc/sys/kernel/perf_event_max_sample_rate", None)


def plan(scope, notes, counters, event="auto"):
    """Which event to sample, which counters to count, and what is left out,
    for the scope access() allowed (its notes carried along). In user scope
    every event gets perf's ":u", as perf would fall back to by itself."""
    notes = list(notes)
    by_name = {c.event: c for c in counters}
    left_out = []
    for c in counters:
        if c.status == perf_stat.NOT_SUPPORTED:
            why = "not supported here"
            if c.event in ("cycles", "instructions"):
                why += ": no hardware performance counters (a VM without PMU passthrough has none)"
            left_out.append({"what": c.event, "why": why})
    stat_events = [c.event for c in counters if c.status != perf_stat.NOT_SUPPORTED]
    if scope == "user":
        # Switches and migrations happen in the kernel: counted in user space, they read 0.
        for e in ("context-switches", "cpu-migrations"):
            if e in stat_events:
                stat_events.remove(e)
                left_out.append({"what": e, "why": "user space only (perf_event_paranoid 2): "
                                                   "they happen in the kernel and would read 0"})
    if event == "auto":
        cyc = by_name.get("cycles")
        event = "cycles" if cyc is not None and cyc.status == perf_stat.COUNTED else "cpu-clock"
        if event == "cpu-clock" and any(x["what"] == "cycles" for x in left_out):
            notes.append("sampling on cpu-clock (a timer): no cycles counter to sample on")
    if scope == "user":
        event = event if ":" in event else event + ":u"
        stat_events = [e + ":u" for e in stat_events]
    return Plan(scope=scope, record_event=event, stat_events=stat_events, left_out=left_out,
                notes=notes)


def write(plan_, path):
    Path(path).write_text(json.dumps(asdict(plan_), indent=1) + "\n")


def read(path):
    return Plan(**json.loads(Path(path).read_text()))
