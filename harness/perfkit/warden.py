"""The warden: `perfkit run` forks, the parent becomes a child subreaper that
only waits, and the child (the runner) runs the scenario. So nothing of a run
outlives it, however it ends:

- the runner SIGKILLed: its orphans (its children, and the daemons it had
  adopted) are reparented to the warden, which kills and reaps them and their
  descendants, then exits 128 + 9;
- the warden SIGKILLed: the runner gets SIGTERM (PR_SET_PDEATHSIG) and stops
  everything as on Ctrl-C.

SIGINT, SIGTERM and SIGHUP sent to the warden are passed on to the runner,
whose status becomes the warden's; once the runner has ended, they are ignored.
"""
import os
import signal
import sys

import psutil

from .processes import reap_strays, set_parent_death_signal, set_subreaper

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_guarded(body):
    """Runs body() (returning an exit status) in a forked runner, watched;
    returns the status to exit with. Call it before any thread is started."""
    set_subreaper(True)
    warden = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os._exit(_runner(body, warden))
    # The runner is our unreaped child until waitid below: forwarding by pid is safe.
    for s in SIGNALS:
        signal.signal(s, lambda signum, _frame: os.kill(pid, signum))
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # retried on EINTR (PEP 475)
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    left = reap_strays(psutil.Process())
    if code < 0:
        print(f"perfkit: the runner was killed by signal {-code}; "
              f"{left} processes it left were stopped, no run file written", file=sys.stderr)
        code = 128 - code
    return code


def _runner(body, warden):
    code = 1
    try:
        set_parent_death_signal(signal.SIGTERM)
        if os.getppid() != warden:  # the warden died before we asked to be told
            return 128 + signal.SIGTERM
        code = body()
    except KeyboardInterrupt:  # a Ctrl-C before the run took the signals over
        print("perfkit: interrupted; nothing was running", file=sys.stderr)
        code = 128 + signal.SIGINT
    except SystemExit as e:
        code = 0 if e.code is None else e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code
