"""`perfkit run SCENARIO -o RUN.json`: one scenario, run whole (or only the
phases named by --phases), into one run file."""
import sys
from pathlib import Path

from . import RUN_FILES, work_tree

NEEDS = {**RUN_FILES, "numpy": "python3-numpy"}


def register(sub):
    run = sub.add_parser(
        "run", help="run a scenario and write one perfkit.run/1 file",
        description="Starts the system under test, waits until it is ready, samples its RSS "
                    "and CPU through every phase (each with its load and benchmarks), stops "
                    "everything (also on Ctrl-C or failure) and writes one run file.")
    run.add_argument("scenario", type=Path, help="a scenario TOML file (see harness/scenarios/)")
    run.add_argument("-o", "--output", type=Path, help="the run file to write (required but with --check)")
    run.add_argument("--build-dir", type=Path, default=Path("build"),
                     help="where the build put bin/ (for {bin}, loadgen) and its compiler "
                          "(for the machine fingerprint); default: build")
    run.add_argument("--repetitions", metavar="N", default="1",
                     help="run the whole scenario N times, each with a SUT started afresh "
                          "(the level the variation between process runs shows at), into one "
                          "run file: every metric keeps each repetition's samples as a process "
                          "run of its own, and `phases` every repetition's windows, each "
                          "numbered; any failed repetition fails the run; default: 1")
    run.add_argument("--series", type=Path,
                     help="also write every sample, as NumPy arrays (.npz), for plots; with "
                          "--repetitions N > 1, one file per repetition: F.1.npz ... F.N.npz")
    run.add_argument("--phases", metavar="NAME[,NAME...]",
                     help="run only these phases, in the scenario's order whatever the order "
                          "given (a quick form of a test): their metrics keep their names "
                          "(PHASE.*), and run.sut.* then covers only them; a phase run without "
                          "the ones before it may find the SUT in another state. An unknown or "
                          "repeated name is refused (exit 2); with --check, prints the phases "
                          "selected")
    run.add_argument("--profile", metavar="PHASE=TOOL", action="append", default=[],
                     help="attach a profiler (perf or heaptrack: profiling/perf.sh, "
                          "heaptrack.sh) to the SUT for that phase, as a phase's `profile` "
                          "key does; again for another phase. Its metrics go in the run as "
                          "PHASE.profile.*, its files (flame graph, heap summary) in "
                          "RUN.profiles/ beside the run file, listed in its attachments. The "
                          "phase's own SUT figures then carry the profiler's cost")
    run.add_argument("--check", action="store_true",
                     help="only read and check the scenario; start nothing")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(main=main, needs=NEEDS)
    return run


def _positive(text):
    try:
        n = int(text)
    except ValueError:
        return None
    return n if n >= 1 else None


def main(args):
    if not args.check and args.output is None:
        print("perfkit: run: -o/--output is required (or --check)", file=sys.stderr)
        return 2
    repetitions = _positive(args.repetitions)
    if repetitions is None:
        print(f"perfkit: run: --repetitions {args.repetitions!r} is not a positive integer",
              file=sys.stderr)
        return 2
    from .. import scenario
    try:
        sc = scenario.load(args.scenario)
    except scenario.ScenarioError as e:
        print(f"perfkit: {e}", file=sys.stderr)
        return 2
    of_all = ""
    if args.phases is not None:
        of_all = f" of {len(sc.phases)}"
        try:
            sc = scenario.only_phases(sc, args.phases.split(","))
        except scenario.ScenarioError as e:
            print(f"perfkit: run: --phases: {e}", file=sys.stderr)
            return 2
    try:
        sc = scenario.with_profiles(sc, args.profile)
    except scenario.ScenarioError as e:
        print(f"perfkit: run: --profile {e}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.scenario}: scenario {sc.name!r}, {len(sc.phases)}{of_all} phases: "
              + ", ".join(p.name + (f" (profile: {p.profile})" if p.profile else "")
                          for p in sc.phases))
        return 0
    if not args.output.parent.resolve().is_dir():
        print(f"perfkit: cannot write {args.output}: no directory {args.output.parent}",
              file=sys.stderr)
        return 2
    from ..warden import run_guarded
    # The work tree holding the scenario: its revision goes in the run, and it is {repo}.
    repo = work_tree(args.scenario.resolve().parent) or Path.cwd()
    return run_guarded(lambda: _run(args, sc, repo, repetitions))


def _run(args, sc, repo, repetitions):
    """The runner's side of run_guarded: the run, then its file."""
    from .. import runfile, scenario
    from ..attachments import rebased
    from ..runner import Interrupted, Progress, RunError, run_scenario
    try:
        # Signals stay ignored after the run: a late one changes nothing.
        run = run_scenario(sc, build_dir=args.build_dir, repo=repo,
                           progress=Progress(quiet=args.quiet), series_path=args.series,
                           restore_signals=False, repetitions=repetitions,
                           profile_dir=args.output.with_name(args.output.stem + ".profiles"))
    except (RunError, scenario.ScenarioError, OSError, ValueError) as e:
        print(f"perfkit: {sc.name}: {e}", file=sys.stderr)
        return 1
    except Interrupted as e:
        print(f"perfkit: {sc.name}: {e}; every process stopped, no run file written",
              file=sys.stderr)
        return 128 + e.signum
    if "attachments" in run:  # series' and profiles' paths: from here to beside the run file
        run["attachments"] = rebased(run["attachments"], Path.cwd(), args.output.parent)
    try:
        runfile.write_run(run, args.output)
    except (OSError, runfile.RunFormatError) as e:
        print(f"perfkit: {sc.name}: could not write {args.output}: {e}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"perfkit: wrote {args.output} ({len(run['metrics'])} metrics"
              + (f", {repetitions} repetitions)" if repetitions > 1 else ")"), file=sys.stderr)
    return 0
