"""Timer B (RFC 3261 17.1.1.2, 16.7 step 2): with set timer-b 2000, an
INVITE forwarded to a UAS that never answers gets 100 at once and 408
about 2 s later; sipd then stops retransmitting the INVITE, and absorbs
the UAC's ACK of the 408."""

import time

import sipdtest
import sipua
from sipdtest import check

TIMER_B = 2.0


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started,
                                 conf=lambda s: "set timer-b 2000")
        call = sipua.Call(uac, uas.uri("uas"))
        sent = time.monotonic()
        uac.send(call.request("INVITE"), sipd.port)
        uac.expect_response(100, call, timeout=1.0)
        uas.expect_request("INVITE", call.call_id)
        timeout = uac.expect_response(408, call, timeout=TIMER_B + 4.0)
        took = time.monotonic() - sent
        check(took >= TIMER_B - sipua.GRAIN,
              "408 after %.2f s, before Timer B (%.1f s)" % (took, TIMER_B))
        check(sipua.branches(timeout) == [call.branch],
              "408 came with Vias %s" % timeout.get("Via"))
        uac.send(call.ack(timeout), sipd.port)
        uas.collect(0.1)  # the retransmissions (Timer A) queued so far
        # Timer A would resend at 3.5 s: the client transaction is over
        late = [m for m in uas.collect(2.3)
                if m.is_request() and m.method in ("INVITE", "ACK")]
        check(late == [], "the UAS got after the 408: %s" % late)
        more = [m for m in uac.collect(0.5) if not m.is_request()]
        check(more == [], "the UAC got after its ACK: %s" % more)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
