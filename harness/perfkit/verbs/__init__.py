"""perfkit's verbs, one module each: `register(subparsers)` adds its parser
(and its `main(args)` as the parser's default `main`); `NEEDS` names the
modules it imports beyond the standard library."""

# Modules a verb may import beyond the standard library, and Debian's package
# of each: what reads or writes a run file, and what does statistics.
RUN_FILES = {"psutil": "python3-psutil", "jsonschema": "python3-jsonschema"}
STATISTICS = {"numpy": "python3-numpy", "scipy": "python3-scipy"}
