"""Folded stacks, "root;caller;...;leaf COUNT" a line (what
perfkit.profiles.perf_script writes, and FlameGraph's stackcollapse-*
tools): reading, writing, what kind a frame is, and the functions that take
the most samples by themselves (self) and with their callees (inclusive)."""
import re
from collections import Counter

_LINE = re.compile(r"^(?P<stack>.*\S)\s+(?P<count>\d+(?:\.\d+)?)$")

# Frame kinds, read from the name alone (perf_script writes them so).
PROCESS, THREAD, KERNEL, INLINED, JIT, UNKNOWN, USER = (
    "process", "thread", "kernel", "inlined", "jit", "unknown", "user")


class FoldedFormatError(ValueError):
    pass


def kind(name, depth):
    """The kind of the frame `name` at `depth` (0: the root, the process)."""
    if depth == 0:
        return PROCESS
    if name.startswith("thread:"):
        return THREAD
    if name.endswith("_[k]"):
        return KERNEL
    if name.endswith("_[i]"):
        return INLINED
    if name.endswith("_[j]"):
        return JIT
    if name.startswith("[") and name.endswith("]"):
        return UNKNOWN
    return USER


def is_function(name, depth):
    """Frames that are code, not the process or thread they ran in."""
    return kind(name, depth) not in (PROCESS, THREAD)


def looks_folded(first_lines):
    """True when the first non-empty line reads as a folded stack; perf
    script text begins with a sample header, a '#' comment or an indented
    line. (A folded file with a bad line further on is then refused naming
    that line, not taken for perf script text without samples.)"""
    for line in first_lines:
        if not line.strip():
            continue
        return not line.startswith(("#", " ", "\t")) and bool(_LINE.match(line.rstrip("\n")))
    return False


def read(lines, source="input"):
    """Lines -> Counter {stack: samples}; lines of one stack add up. A line
    that is not "stack COUNT" raises FoldedFormatError naming it."""
    stacks = Counter()
    for i, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            raise FoldedFormatError(f"{source}:{i}: not 'frame;frame;... COUNT': {line[:80]!r}")
        count = float(m["count"])
        stacks[m["stack"]] += int(count) if count.is_integer() else count
    return stacks


def write(stacks, f):
    """In the order of the stacks' text: the same input gives the same bytes."""
    for stack in sorted(stacks):
        f.write(f"{stack} {stacks[stack]}\n")


def total(stacks):
    return sum(stacks.values())


def shares(stacks):
    """(self, inclusive): Counters {function: samples}. Self counts the
    samples whose leaf is the function; inclusive the samples with the
    function anywhere on the stack, once however deep it recurses. Process
    and thread frames are left out: they are not functions."""
    self_, incl = Counter(), Counter()
    for stack, n in stacks.items():
        frames = stack.split(";")
        funcs = [f for d, f in enumerate(frames) if is_function(f, d)]
        if funcs and is_function(frames[-1], len(frames) - 1):
            self_[frames[-1]] += n
        for f in set(funcs):
            incl[f] += n
    return self_, incl


def top(counter, n=10):
    """The n largest, ties by name: the same input gives the same table."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
