"""A small daemon for the runner's tests (standard library only): holds some
memory, answers "ping" with "pong" on a Unix socket, optionally keeps a child
with memory of its own, and exits 0 on SIGTERM (or, asked, ends badly).

    testdaemon.py SOCKET [--mb N] [--child-mb N] [--die-after S] [--no-listen]
                  [--daemonize PIDFILE] [--stray] [--at-stop abort|exit5|hang]
"""
import argparse
import ctypes
import os
import signal
import socket
import sys
import threading
import time


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def hold_child(mb):
    pid = os.fork()
    if pid == 0:
        die_with_parent()
        block = bytearray(mb << 20)  # noqa: F841  (held, every page touched)
        while True:
            time.sleep(3600)
    return pid


def daemonize(pidfile):
    """As init-script daemons do: fork (the first process exits 0), setsid, fork
    again (the session leader exits), then write the pidfile."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(pidfile + ".tmp", pidfile)


def stray():
    """A grandchild that escapes: setsid and a double fork, then it sleeps."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                time.sleep(3600)
        os._exit(0)


def on_stop(how):
    if how == "abort":
        os.abort()
    if how == "exit5":
        os._exit(5)
    if how == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return
    sys.exit(0)


def serve(path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    while True:
        conn, _ = server.accept()
        with conn:
            if conn.recv(16).startswith(b"ping"):
                conn.sendall(b"pong\n")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("socket")
    p.add_argument("--mb", type=int, default=0, help="MB to hold")
    p.add_argument("--child-mb", type=int, default=0, help="a child holding this many MB")
    p.add_argument("--die-after", type=float, help="exit with status 3 after S seconds")
    p.add_argument("--no-listen", action="store_true", help="never become ready")
    p.add_argument("--daemonize", metavar="PIDFILE", help="fork away, write PIDFILE")
    p.add_argument("--stray", action="store_true", help="leave a setsid double-forked child")
    p.add_argument("--at-stop", choices=["exit0", "abort", "exit5", "hang"], default="exit0",
                   help="what SIGTERM does")
    args = p.parse_args()
    if args.daemonize:
        daemonize(args.daemonize)
    signal.signal(signal.SIGTERM, lambda *_: on_stop(args.at_stop))
    if args.stray:
        stray()
    block = bytearray(args.mb << 20)  # noqa: F841
    if args.child_mb:
        hold_child(args.child_mb)
    if args.die_after is not None:
        threading.Timer(args.die_after, lambda: os._exit(3)).start()
    if args.no_listen:
        while True:
            time.sleep(3600)
    serve(args.socket)


if __name__ == "__main__":
    main()
