"""`perfkit profile heaptrack-record -o BASE (--pid PID | -- CMD ARGS)`:
heaptrack run on a program or attached to a process until it ends, this
gets SIGTERM, SIGINT or SIGHUP, or --seconds of recording have passed, then
stopped so that nothing is left behind
(profiling/heaptrack.sh runs it; perfkit/profiles/heaptrack_record.py says
why heaptrack's own script cannot be signalled)."""
import argparse
import json
import sys
from pathlib import Path

NEEDS = {}

EPILOG = """On SIGTERM, SIGINT or SIGHUP: a program heaptrack started gets SIGTERM
(SIGKILL after --grace seconds); from an attached process heaptrack detaches
(gdb calls heaptrack_stop in it, after the injection has finished). The
program's stdout goes to stderr with heaptrack's words. Exit status: 0
recorded (BASE.zst, or BASE.gz without zstd); 1 the recording failed (said
in one line); 2 bad arguments."""


def register(tools):
    p = tools.add_parser(
        "heaptrack-record", help="record a program or a process with heaptrack until stopped",
        description="Runs heaptrack -o BASE on CMD, or attaches it to PID, until the program "
                    "ends or a signal tells it to stop, and stops it cleanly: no interpreter, "
                    "gdb or fifo left behind.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="BASE",
                   help="the recording's name without .zst (no blanks: heaptrack's script "
                        "cannot quote them)")
    p.add_argument("-p", "--pid", type=int, help="attach to this running process")
    p.add_argument("--status", type=Path, metavar="FILE",
                   help="write what happened here as JSON (file, mode, pid, stopped, "
                        "exit_status, seconds)")
    p.add_argument("--ready-file", type=Path, metavar="FILE",
                   help="create FILE once heaptrack records (the program runs with its library, "
                        "or the injection is done): the wrappers' OUT/recording")
    p.add_argument("-d", "--seconds", type=float, metavar="S",
                   help="stop after S seconds of recording (counted from when heaptrack "
                        "records: an attach's injection takes a second or more first)")
    p.add_argument("--grace", type=float, default=30.0, metavar="S",
                   help="seconds a stop may take before it is forced (default 30)")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS",
                   help="the program to start under heaptrack")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def main(args):
    from ..profiles import heaptrack_record

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if (args.pid is None) == (not command):
        return _say("give --pid PID or -- CMD ARGS, one of them", 2)
    if args.pid is not None and args.pid <= 0:
        return _say(f"--pid {args.pid} is not a process id", 2)
    if args.grace <= 0:
        return _say("--grace must be positive", 2)
    if args.seconds is not None and args.seconds <= 0:
        return _say("--seconds must be positive", 2)
    try:
        result = heaptrack_record.record(args.output, command=command or None, pid=args.pid,
                                         grace=args.grace, ready=args.ready_file,
                                         seconds=args.seconds)
    except heaptrack_record.RecordError as e:
        return _say(str(e), 1)
    if args.status:
        try:
            args.status.write_text(json.dumps(result.as_json(), indent=1) + "\n")
        except OSError as e:
            return _say(f"cannot write {args.status}: {e}", 1)
    if result.mode == "command" and result.exit_status and not result.stopped:
        _say(f"{command[0]} exited with status {result.exit_status} (recorded all the same)", 0)
    print(f"perfkit: profile heaptrack-record: recorded {result.file}", file=sys.stderr)
    return 0


def _say(message, status):
    print(f"perfkit: profile heaptrack-record: {message}", file=sys.stderr)
    return status
