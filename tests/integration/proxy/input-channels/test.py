"""The Input Channels cap (set input-channels 2): two inbound TCP
connections are served; every further one is closed at once, unanswered,
while they stay open; once one of them closes, a new connection is served
again.  Every connection comes from 127.0.0.1: source-channels is set to
the cap so that the cap of the whole is what is tested here (the limit
per source has its test in security/conn-limits)."""

import time

import sipdtest
import sipua
from sipdtest import check

CAP = 2


def served(conn, port):
    conn.send(conn.options(port))
    got = conn.read(1, 3.0)
    return len(got) == 1 and got[0].status == 200


def test(binary, started):
    sipd = sipua.start_proxy(binary, started, tcp=True,
                             conf=lambda s: "set input-channels %d\n"
                             "set source-channels %d" % (CAP, CAP))
    port = sipd.port
    conns = []
    try:
        for i in range(CAP):
            conns.append(sipua.RawConn(port))
            check(served(conns[-1], port),
                  "connection %d of %d not served" % (i + 1, CAP))
        for i in range(3):
            extra = sipua.RawConn(port)
            conns.append(extra)
            extra.send(extra.options(port))
            check(extra.closed(1.0),
                  "connection %d served with input-channels %d (%d "
                  "workers)" % (CAP + i + 1, CAP, sipua.processors()))
            check(extra.buf == b"", "connection %d answered: %r" % (
                CAP + i + 1, extra.buf[:100]))
        check("input channels full" in sipd.log(),
              "sipd did not log the refusal")
        for i in range(CAP):
            check(served(conns[i], port),
                  "connection %d not served any more" % (i + 1))

        conns[0].close()
        check(sipd.wait_log("127.0.0.1:%d closed by peer" % conns[0].port),
              "sipd did not see the first connection close")
        ok = False
        for _ in range(10):
            again = sipua.RawConn(port)
            conns.append(again)
            if served(again, port):
                ok = True
                break
            time.sleep(0.1)
        check(ok, "no connection served again after one closed")
    finally:
        for c in conns:
            c.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
