"""Timer F (RFC 3261 17.1.2.2, 16.7 step 2): with set t1 100, a MESSAGE
forwarded to a UAS that never answers gets 408 after 64*T1 = 6.4 s, and
sipd's retransmissions to the UAS (Timer E, at most T2 = 1 s apart) stop
then.  (RFC 4320 4.2 would have a
proxy send nothing instead; sipd follows RFC 3261 16.7 here.)"""

import time

import sipdtest
import sipua
from sipdtest import check

TIMER_F = 6.4


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started,
                                 conf=lambda s: "set t1 100\nset t2 1000")
        call = sipua.Call(uac, uas.uri("uas"))
        sent = time.monotonic()
        uac.send(call.request("MESSAGE"), sipd.port)
        uas.expect_request("MESSAGE", call.call_id)
        timeout = uac.expect_response(408, call, timeout=TIMER_F + 4.0)
        took = time.monotonic() - sent
        check(took >= TIMER_F - sipua.GRAIN,
              "408 after %.2f s, before Timer F (%.1f s)" % (took, TIMER_F))
        check(sipua.branches(timeout) == [call.branch],
              "408 came with Vias %s" % timeout.get("Via"))
        uas.collect(0.1)  # the retransmissions (Timer E) queued so far
        retrans = [m for m in uas.seen if m.method == "MESSAGE"]
        check(len(retrans) >= 4,
              "the UAS got the MESSAGE %d times: sipd did not retransmit it "
              "(17.1.2.2, Timer E)" % len(retrans))
        late = [m for m in uas.collect(1.5) if m.method == "MESSAGE"]
        check(late == [], "the UAS got after the 408: %s" % late)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
