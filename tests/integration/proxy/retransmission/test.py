"""Retransmissions of an INVITE are absorbed (RFC 3261 17.2.1): the UAC
sends the same INVITE three times; sipd forwards it once, and answers each
retransmission with the last provisional response it sent; the UAS sees
one INVITE (it rings at once, so sipd has no reason to retransmit).  A
retransmission after the final response (Completed) gets that response
again, and is not forwarded either."""

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        call = sipua.Call(uac, uas.uri("uas"))
        invite = call.request("INVITE")
        uac.send(invite, sipd.port)
        uac.expect_response(100, call)
        inv = uas.expect_request("INVITE", call.call_id)
        uas.respond(inv, 180, to_tag="uas1")
        uac.expect_response(180, call)
        for n in range(2):
            uac.send(invite, sipd.port)
            again = uac.expect(
                "a provisional response to retransmission %d" % (n + 1),
                lambda m: m.status is not None and m.status < 200 and
                m.call_id() == call.call_id)
            check(again.status == 180, "retransmission %d answered %d, not "
                  "the last provisional (180)" % (n + 1, again.status))
        invites = [m for m in uas.collect(sipua.silence()) if
                   m.method == "INVITE"]
        check(invites == [], "the UAS got the INVITE %d more times" %
              len(invites))
        uas.respond(inv, 486, to_tag="uas1")
        busy = uac.expect_response(486, call)
        uas.expect_request("ACK", call.call_id)
        # in Completed, a retransmission gets the final response again
        uac.send(invite, sipd.port)
        again = uac.expect_response(486, call)
        check(again.raw == busy.raw, "the 486 came back changed")
        invites = [m for m in uas.collect(sipua.silence()) if
                   m.method == "INVITE"]
        check(invites == [], "a late retransmission reached the UAS")
        uac.send(call.ack(busy), sipd.port)
        uac.collect(0.2)  # a retransmission (Timer G) sent meanwhile
        late = uac.collect(1.5)
        check(late == [], "the 486 was resent after the ACK: %s" % late)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
