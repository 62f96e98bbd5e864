"""`perf script` text folded into stacks: one line per distinct stack,
"root;caller;...;leaf COUNT", root first, the count in samples.

What perf script prints (fields comm,pid,tid,time,period,event,ip,sym,dso;
--show-task-events adds the PERF_RECORD_* lines):

    mt worker 1 20517/20519 22808.561907:    5025125 cpu-clock:
    \t            11c4 spin_worker (/tmp/mt)
    \t           891f5 start_thread (/usr/lib/x86_64-linux-gnu/libc.so.6)
    (blank line)

a header per sample, then its frames leaf first, one per line: address,
symbol (+0xOFF when symoff is asked for), and the object in parentheses.
Names are written so that the folded line stays one line with `;` between
frames, and so that a frame's kind can be read back from its name alone
(perfkit.profiles.folded.kind):

- the root is the process's name (its main thread's last name); a thread
  named otherwise gets a frame "thread:NAME" under it;
- a kernel frame ([kernel.kallsyms], vmlinux, a module) ends in "_[k]", an
  inlined one (perf's "(inlined)") in "_[i]", a JIT frame (/tmp/perf-N.map)
  in "_[j]": the suffixes Brendan Gregg's FlameGraph uses, so its tools read
  ours;
- a symbol perf could not name is "[OBJECT]" (the object's file name) or,
  when the object too is unknown, "[unknown]";
- C++ names keep their templates and namespaces; an argument list, where
  perf printed one, is dropped (overloads then share a frame, as they share
  a name in perf report's default view), and `;` becomes `:`.

Samples of events other than the first one seen are left out (and counted):
adding cycles to page faults would mean nothing."""
import re
from collections import Counter
from dataclasses import dataclass, field

# "comm pid/tid [cpu] time: [period] event:" -- comm may hold spaces and
# digits, so the pid is the number right before the time.
_HEADER = re.compile(
    r"^(?P<comm>.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?\s+(?:\[\d+\]\s+)?"
    r"(?P<time>\d+\.\d+):\s*(?P<rest>.*)$")
# After the time: "5025125 cpu-clock:" or "cpu-clock:u:" or a task event.
_EVENT = re.compile(r"^(?:(?P<period>\d+)\s+)?(?P<event>\S+?):(?:\s+(?P<tail>.*))?$")
# A frame: address, symbol, (object). The object is the last parenthesised
# group; the symbol may hold spaces and parentheses of its own.
_FRAME = re.compile(r"^\s*(?P<addr>[0-9a-fA-F]+)\s+(?P<rest>.*\))\s*$")
_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")
_COMM_EVENT = re.compile(r"PERF_RECORD_COMM(?: exec)?: (?P<comm>.*):(?P<pid>-?\d+)/(?P<tid>-?\d+)\s*$")
_JIT_MAP = re.compile(r"/tmp/perf-\d+\.map$")
# Objects in brackets that are user space, not the kernel.
_USER_SPECIAL = {"[vdso]", "[vsyscall]", "[vectors]", "[heap]", "[stack]", "[anon]",
                 "[uprobes]", "[unknown]"}
_QUALIFIERS = (" const", " volatile", " &&", " &", "&&", "&", " noexcept")


@dataclass
class Folded:
    """What fold() found: the stacks with their sample counts, the event
    folded, and what was left out."""
    stacks: Counter = field(default_factory=Counter)
    event: str | None = None
    samples: int = 0
    other_events: Counter = field(default_factory=Counter)
    lines_skipped: int = 0


def _split_object(rest):
    """'sym (obj)' -> ('sym', 'obj'), the object being the parenthesised
    group that closes the line (scanned from the end, nesting counted)."""
    depth = 0
    for i in range(len(rest) - 1, -1, -1):
        c = rest[i]
        if c == ")":
            depth += 1
        elif c == "(":
            depth -= 1
            if depth == 0:
                return rest[:i].rstrip(), rest[i + 1:-1]
    return rest, ""


def _matching_open(name, close):
    """Index of the '(' that the ')' at `close` closes, or -1."""
    depth = 0
    for i in range(close, -1, -1):
        if name[i] == ")":
            depth += 1
        elif name[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


def tidy_symbol(name):
    """A symbol as a frame's name: no +0xOFF, no argument list, no `;`.
    'ns::f<int>(int, char const*) const' -> 'ns::f<int>';
    'S::operator()' and 'ns::(anonymous namespace)::g' stay as they are."""
    name = _OFFSET.sub("", name.strip())
    stripped = name
    for q in _QUALIFIERS:  # cv- and ref-qualifiers follow the argument list
        if stripped.endswith(q) and stripped[: -len(q)].endswith(")"):
            stripped = stripped[: -len(q)]
            break
    if stripped.endswith(")"):
        start = _matching_open(stripped, len(stripped) - 1)
        head = stripped[:start] if start > 0 else ""
        # An argument list follows a name; "operator()" without arguments and a
        # group that is the whole name ("(anonymous namespace)") are names.
        if head and not head.endswith("operator") and not head.endswith("::") \
                and not head.endswith(" "):
            name = head
    return name.replace(";", ":")


def _is_kernel(addr, obj):
    if obj.startswith("[kernel.") or obj.endswith("vmlinux") or re.search(r"\.ko(\.\w+)?$", obj):
        return True
    # A kernel module shows as [name]; user space's bracketed objects are few.
    return (obj.startswith("[") and obj.endswith("]") and obj not in _USER_SPECIAL
            and len(addr) >= 16 and addr[0] in "89abcdefABCDEF")


def frame_name(addr, symbol, obj):
    """One frame line's parts -> its name in a folded stack (see the module)."""
    symbol = _OFFSET.sub("", symbol.strip())
    if obj == "inlined":
        return tidy_symbol(symbol) + "_[i]"
    kernel = _is_kernel(addr, obj)
    if symbol in ("", "[unknown]"):
        if obj and obj != "[unknown]":
            base = obj.rsplit("/", 1)[-1]
            return base if base.startswith("[") and base.endswith("]") else f"[{base}]"
        return "[unknown]"
    name = tidy_symbol(symbol)
    if kernel:
        return name + "_[k]"
    if _JIT_MAP.search(obj):
        return name + "_[j]"
    return name


def _root_name(comm):
    return comm.strip().replace(";", ":") or "[unknown]"


def fold(lines):
    """perf script text (an iterable of lines) -> Folded. Streams: only the
    distinct stacks are held, never the text."""
    out = Folded()
    # (pid, tid, comm, frames leaf first) -> samples; names resolved at the end,
    # once every process's main thread has told its name.
    raw = Counter()
    leader_comm = {}  # pid -> the last name its main thread had
    header = None  # (pid, tid, comm) of the sample being read, None when skipped
    frames = []

    def finish():
        nonlocal header, frames
        if header is not None:
            raw[(*header, tuple(frames))] += 1
            out.samples += 1
        header, frames = None, []

    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            finish()
            continue
        if line.startswith("#"):
            continue
        # A header first: without call graphs perf indents it (comm right-aligned),
        # and a comm may look like an address ("add", "beef").
        m = _HEADER.match(line)
        if not m:
            f = _FRAME.match(line) if header is not None else None
            if f:
                symbol, obj = _split_object(f["rest"])
                frames.append(frame_name(f["addr"], symbol, obj))
            else:
                out.lines_skipped += 1  # a srcline, a field we did not ask for
            continue
        finish()
        pid = int(m["pid"])
        tid = int(m["tid"]) if m["tid"] is not None else pid
        rest = m["rest"]
        if rest.startswith("PERF_RECORD_"):
            c = _COMM_EVENT.search(rest)
            if c and c["pid"] == c["tid"]:
                leader_comm[int(c["pid"])] = c["comm"].strip()
            continue
        e = _EVENT.match(rest)
        if not e:
            out.lines_skipped += 1
            continue
        event = e["event"]
        if out.event is None:
            out.event = event
        elif event != out.event:
            out.other_events[event] += 1
            continue
        comm = m["comm"].strip()
        if tid == pid:
            leader_comm[pid] = comm
        header = (pid, tid, comm)
        tail = e["tail"]
        if tail:  # recorded without call graphs: the one frame is on this line
            f = _FRAME.match(tail)
            if f:
                symbol, obj = _split_object(f["rest"])
                frames.append(frame_name(f["addr"], symbol, obj))
    finish()

    for (pid, tid, comm, leaf_first), n in raw.items():
        process = leader_comm.get(pid, comm)
        stack = [_root_name(process)]
        if tid != pid and comm != process:
            stack.append("thread:" + _root_name(comm))
        stack.extend(reversed(leaf_first))
        out.stacks[";".join(stack)] += n
    return out
