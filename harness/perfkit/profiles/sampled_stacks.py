"""Call stacks counted by how often they were sampled, written as Brendan
Gregg's folded stacks (`root;...;leaf count`, what flame graph tools read),
and the samples by leaf frame (where the CPU was)."""
from collections import Counter


def folded(stacks):
    """stacks: {(root, ..., leaf): samples} -> the folded text, sorted. A
    frame's `;` would split it in two: it becomes `:`."""
    def clean(frame):
        return frame.replace(";", ":").replace("\n", " ").strip() or "[empty]"
    lines = [";".join(clean(f) for f in stack) + f" {n}" for stack, n in stacks.items() if stack]
    return "".join(line + "\n" for line in sorted(lines))


def self_counts(stacks):
    """[(leaf frame, samples)], most first."""
    leaf = Counter()
    for stack, n in stacks.items():
        if stack:
            leaf[stack[-1]] += n
    return leaf.most_common()
