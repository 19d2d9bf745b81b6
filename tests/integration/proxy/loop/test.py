"""Loop detection (RFC 3261 16.3 step 4, 16.6 step 8): a rule sends
loop.example back to sipd itself, so the request comes back carrying
sipd's own Via with the same loop hash; sipd answers that 482, and the 482
goes back through the first pass's transaction to the UAC (after a 100
for an INVITE), each once.  A looping MESSAGE with Max-Forwards 1 comes
back with 0 and gets 483 instead, also through the first pass."""

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac = sipua.UA()
    try:
        sipd = sipua.start_proxy(
            binary, started,
            conf=lambda s: "route add loop.example 127.0.0.1:%d" % s.port)
        for method in ("MESSAGE", "INVITE"):
            call = sipua.Call(uac, "sip:someone@loop.example")
            uac.send(call.request(method), sipd.port)
            if method == "INVITE":
                uac.expect_response(100, call)
            resp = uac.expect(
                "a final response to %s" % method,
                lambda m: m.status is not None and m.status >= 200 and
                m.call_id() == call.call_id, timeout=3.0)
            check(resp.status == 482, "a looping %s got %d, not 482" % (
                method, resp.status))
            check(resp.reason == "Loop Detected",
                  "482 with reason %r" % resp.reason)
            check(sipua.param(resp.first("To"), "tag") is not None,
                  "482 without a To tag: %s" % resp.first("To"))
            check(sipua.branches(resp) == [call.branch],
                  "482 came with Vias %s" % resp.get("Via"))
            if method == "INVITE":
                uac.send(call.ack(resp), sipd.port)
        # a retransmitted final response would come T1 after the first
        late = [m for m in uac.collect(sipua.silence()) if
                m.status is not None and m.status >= 200]
        check(late == [], "final responses came again: %s" % late)
        # with Max-Forwards 1 the request never leaves: its next hop
        # is sipd itself, which gets 482 before anything is sent (a
        # request is never forwarded to sipd, sipd.8)
        call = sipua.Call(uac, "sip:someone@loop.example")
        uac.send(call.request("MESSAGE", max_forwards=1), sipd.port)
        resp = uac.expect(
            "a final response to MESSAGE with Max-Forwards 1",
            lambda m: m.status is not None and m.status >= 200 and
            m.call_id() == call.call_id, timeout=3.0)
        check(resp.status == 482, "a looping MESSAGE with Max-Forwards 1 "
              "got %d, not 482" % resp.status)
        check(sipua.branches(resp) == [call.branch],
              "482 came with Vias %s" % resp.get("Via"))
    finally:
        uac.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
