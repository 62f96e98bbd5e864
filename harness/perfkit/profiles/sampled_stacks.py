"""Call stacks of another profiler (Instruments, ETW), each a tuple of
frames with its samples, as perfkit's folded stacks (folded.py: what the
flame graph draws and stacks.folded holds), and the samples by leaf frame
(where the CPU was)."""
from collections import Counter


def as_folded(stacks):
    """{(root, ..., leaf): samples} -> Counter {"root;...;leaf": samples}. A
    frame's `;` would split it in two: it becomes `:`."""
    def clean(frame):
        return frame.replace(";", ":").replace("\n", " ").strip() or "[empty]"
    out = Counter()
    for stack, n in stacks.items():
        if stack:
            out[";".join(clean(f) for f in stack)] += n
    return out


def self_counts(stacks):
    """[(leaf frame, samples)], most first."""
    leaf = Counter()
    for stack, n in stacks.items():
        if stack:
            leaf[stack[-1]] += n
    return leaf.most_common()


def self_table(stacks, samples, top):
    """The markdown table of the `top` leaf frames by their samples."""
    lines = ["| self samples | % | function |", "|---:|---:|---|"]
    for frame, n in self_counts(stacks)[:top]:
        lines.append(f"| {n} | {100 * n / max(samples, 1):.1f} | `{frame}` |")
    return lines
