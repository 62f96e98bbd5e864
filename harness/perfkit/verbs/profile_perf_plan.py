"""`perfkit profile perf-plan -o DIR [--pid PID] [--event E]`: what perf.sh
may record here (perfkit.profiles.perf_plan): prints key=value lines for the
wrapper (scope, record_event, stat_events, one note= per thing left out) and
writes DIR/plan.json and DIR/probe.txt; exit 2 with one line saying how to
allow it where perf may not profile."""
import sys
from pathlib import Path

NEEDS = {}


def register(tools):
    p = tools.add_parser(
        "perf-plan", help="what perf may record here (perf.sh asks before recording)",
        description="Reads perf_event_paranoid, kptr_restrict and this user's capabilities, "
                    "asks `perf stat -x, true` once for every counter perf.sh wants, and prints "
                    "scope=, record_event=, stat_events= and note= lines; writes DIR/plan.json "
                    "(perf.sh's summary reads it) and DIR/probe.txt (perf stat's answer). "
                    "Exit 0: a plan; 2: perf may not profile here, or bad input.")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    p.add_argument("--pid", type=int, help="the process to be profiled (its owner matters)")
    p.add_argument("--event", default="auto",
                   help="the event to sample; auto (default): cycles where the machine counts "
                        "them, else cpu-clock")
    p.add_argument("--freq", type=int, help="the sampling frequency asked for (Hz): checked "
                                               "against kernel.perf_event_max_sample_rate")
    p.add_argument("--perf", default="perf", help="the perf binary")
    p.set_defaults(main=main, needs=NEEDS)
    return p


def main(args):
    from ..profiles import perf_plan
    sys_ = perf_plan.system()
    try:
        target_uid = None
        if args.pid is not None:
            target_uid = perf_plan.process_uid(args.pid)
            if target_uid is None:
                raise perf_plan.Refused(f"no process {args.pid}")
        scope, notes = perf_plan.access(sys_, target_uid)
        if args.freq is not None:
            perf_plan.check_freq(args.freq, perf_plan.max_sample_rate())
        counters = perf_plan.probe(args.perf, args.output / "probe.txt")
        if args.event != "auto":
            perf_plan.check_event(args.event, args.perf)
        plan = perf_plan.plan(scope, notes, counters, args.event)
        perf_plan.write(plan, args.output / "plan.json")
    except perf_plan.Refused as e:
        print(f"perfkit: profile perf-plan: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"perfkit: profile perf-plan: cannot write in {args.output}: {e.strerror}",
              file=sys.stderr)
        return 2
    print(f"scope={plan.scope}")
    print(f"record_event={plan.record_event}")
    print(f"stat_events={','.join(plan.stat_events)}")
    for x in plan.left_out:
        print(f"note=left out {x['what']}: {x['why']}")
    for n in plan.notes:
        print(f"note={n}")
    return 0
