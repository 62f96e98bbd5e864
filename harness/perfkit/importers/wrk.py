"""wrk's text output: requests/s, transfer/s, errors and (with --latency)
the latency percentiles."""
import re

from ..runfile import metric

_TIME = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}   # to ms
_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}  # wrk's are binary
_SCALE = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}

_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"


def _one(pattern, text, what):
    found = re.search(pattern, text, re.MULTILINE)
    if not found:
        raise ValueError(f"wrk: no {what} in the output (is it wrk's?)")
    return found


def from_wrk(text, prefix="wrk"):
    """One wrk run -> prefix.requests_per_s (1/s), prefix.transfer_bytes_per_s
    (1/s: bytes per second), prefix.errors (socket errors and non-2xx/3xx
    responses) and, when --latency was given, prefix.latency_p50/p75/p90/p99
    (ms). One sample each: a run of wrk is one process run."""
    rps = _one(rf"^Requests/sec:\s+{_NUMBER}([kMG]?)\s*$", text, "Requests/sec line")
    out = [metric(f"{prefix}.requests_per_s", "1/s", "higher",
                  [float(rps[1]) * _SCALE[rps[2]]])]
    transfer = _one(rf"^Transfer/sec:\s+{_NUMBER}([KMGT]?B)\s*$", text, "Transfer/sec line")
    out.append(metric(f"{prefix}.transfer_bytes_per_s", "1/s", "higher",
                      [float(transfer[1]) * _BYTES[transfer[2]]]))
    # Errors are part of the result: a server that fails fast looks fast.
    errors = 0
    socket = re.search(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text, re.MULTILINE)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses: (\d+)", text, re.MULTILINE)
    if non_2xx:
        errors += int(non_2xx[1])
    out.append(metric(f"{prefix}.errors", "count", "lower", [errors]))
    if re.search(r"^\s*Latency Distribution", text, re.MULTILINE):
        for pct in ("50", "75", "90", "99"):
            found = _one(rf"^\s*{pct}%\s+{_NUMBER}(us|ms|s|m|h)\s*$", text,
                         f"{pct}% latency in its Latency Distribution")
            out.append(metric(f"{prefix}.latency_p{pct}", "ms", "lower",
                              [float(found[1]) * _TIME[found[2]]]))
    return out
