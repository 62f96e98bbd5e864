"""The WAL's promise under the worst moment: procmond killed with SIGKILL in
the middle of heavy writing, 50 times in a row, at random moments. Every
event the daemon acknowledged as durable (a `durable` mark, sent once its
batch was fdatasync'd) must be in the log after the restart, in order; so must
every event a subscriber saw (published once written, which a crash of the
daemon does not undo); and the sequence must go on from there."""
import json
import random
import signal
import time

import pytest

from procmond_daemon import EVENT, Conn, seq_of

pytestmark = [pytest.mark.spawns, pytest.mark.slow]

ROUNDS = 50


def read_until_killed(conn):
    """Every seq the subscriber receives until the daemon dies, and the last
    seq marked durable."""
    seqs, durable = [], 0
    while (f := conn.next()) is not None:
        if f[0] == EVENT:
            seqs.append(seq_of(f[1]))
        elif (msg := json.loads(f[1]))["type"] == "durable":
            durable = msg["seq"]
    return seqs, durable


def test_no_acknowledged_event_is_lost_across_50_sigkills(procmond):
    rng = random.Random(20261206)
    d = procmond("--interval", "100ms", "--connector", "off", "--wal-sync", "batch",
                 "--synthetic-events", "1000000000", "--synthetic-rate", "100000")
    last_ack = 0
    torn = 0
    durable_marks = 0
    for round_ in range(ROUNDS):
        # A live subscriber: it sees events as they are written, and the
        # durable marks as the fsyncs complete.
        conn = Conn(d.socket)
        conn.request({"op": "subscribe"})
        sub = conn.control()
        assert sub["type"] == "subscribed"
        time.sleep(rng.uniform(0.05, 0.4))
        d.stop(signal.SIGKILL)
        acked, durable = read_until_killed(conn)
        conn.close()
        assert acked, f"round {round_}: nothing received"
        assert acked == list(range(sub["live_from"], acked[-1] + 1)), f"round {round_}: a gap"
        durable_marks += durable > 0
        durable = max(durable, sub["durable"])
        # Everything marked durable and everything seen must survive.
        upto = max(durable, acked[-1])

        d.start()
        st = d.status()
        torn += st["wal"]["torn_bytes_cut"] > 0
        assert st["wal"]["corruptions"] == 0, d.log_text()
        check = Conn(d.socket)
        check.request({"op": "subscribe", "from": last_ack + 1})
        assert check.control()["type"] == "subscribed"
        back = []
        while not back or back[-1] < upto:
            f = check.next()
            assert f is not None, f"round {round_}: the log ended at {back[-1:]}"
            if f[0] == EVENT:
                back.append(seq_of(f[1]))
        check.close()
        assert back == list(range(last_ack + 1, upto + 1)), f"round {round_}: events lost"
        last_ack = upto
    # The sequence went on from the log: new events come after every acknowledged one.
    assert d.status()["seq"] > last_ack
    assert d.stop() == 0
    assert durable_marks >= ROUNDS // 2, "durable marks came in too few rounds to test them"
    print(f"{ROUNDS} SIGKILLs: {last_ack} events seen or marked durable, all found again; "
          f"{durable_marks} rounds got a new durable mark, {torn} restarts cut a torn tail")
