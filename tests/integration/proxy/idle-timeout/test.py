"""The idle timeout (set idle-timeout 1): an inbound TCP connection
quiet for a second is closed by sipd; one that sends an OPTIONS every
0.4 s stays open and served, and is closed once it goes quiet."""

import time

import sipdtest
import sipua
from sipdtest import check

IDLE = 1.0


def test(binary, started):
    sipd = sipua.start_proxy(binary, started, tcp=True,
                             conf=lambda s: "set idle-timeout 1")
    port = sipd.port
    quiet, busy = sipua.RawConn(port), sipua.RawConn(port)
    try:
        quiet.send(quiet.options(port))
        got = quiet.read(1, 3.0)
        check(len(got) == 1 and got[0].status == 200,
              "OPTIONS not answered: %s" % got)
        last = time.monotonic()
        closed_after = None
        for i in range(6):
            busy.send(busy.options(port))
            got = busy.read(1, 2.0)
            check(len(got) == 1 and got[0].status == 200,
                  "OPTIONS %d on the busy connection not answered (%s)" % (
                      i + 1, "closed" if busy.eof else got))
            if closed_after is None and quiet.closed(0.4):
                closed_after = time.monotonic() - last
        check(closed_after is not None, "the quiet connection still open "
              "%.1f s after its last message" % (time.monotonic() - last))
        check(IDLE - 0.2 <= closed_after <= IDLE + 1.5,
              "the quiet connection closed %.1f s after its last message, "
              "the idle timeout is %.0f s" % (closed_after, IDLE))
        last = time.monotonic()
        check(busy.closed(IDLE + 3.0), "the busy connection still open "
              "%.1f s after it went quiet" % (time.monotonic() - last))
        check("idle for 1 s" in sipd.log(), "sipd did not log the closes")
    finally:
        quiet.close()
        busy.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
