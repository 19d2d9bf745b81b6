"""A lost 200 and its retransmission (RFC 3261 13.3.1.4, 16.7 step 5):
the UAS's 200 to an INVITE reaches the UAC, which does not ACK it (as if
lost); the UAS retransmits the 200 and each retransmission reaches the UAC
through sipd (no client transaction is left for it: relayed by Via).  With
set force-rr on, the 200 carries sipd's Record-Route; the UAC's ACK goes to
sipd by that Route, and sipd relays it to the Request-URI (the UAS's
Contact) with its own Via on top and its Route entry removed."""

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started,
                                 conf=lambda s: "set force-rr on")
        rr = "<sip:127.0.0.1:%d;lr>" % sipd.port
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("INVITE"), sipd.port)
        uac.expect_response(100, call)
        inv = uas.expect_request("INVITE", call.call_id)
        sipua.check_top_via(inv, sipd, [call.branch])
        check([sipua.unsigned_rr(v) for v in inv.get("Record-Route")] ==
              [rr], "INVITE forwarded with Record-Route %s, not [%s] "
              "signed" % (inv.get("Record-Route"), rr))
        rr = inv.get("Record-Route")[0]

        ok = uas.respond(inv, 200, to_tag="uas1")
        first = uac.expect_response(200, call)
        check(sipua.branches(first) == [call.branch],
              "200 relayed with Vias %s" % first.get("Via"))
        check(first.get("Record-Route") == [rr],
              "200 relayed with Record-Route %s" % first.get("Record-Route"))
        # the UAC lost it: no ACK; the UAS retransmits (Timer G, 13.3.1.4)
        for n in range(2):
            uas.send_response(inv, ok)
            again = uac.expect_response(200, call, timeout=2.0)
            check(again.raw == first.raw,
                  "retransmission %d of the 200 reached the UAC changed:\n"
                  "%r\nfirst:\n%r" % (n + 1, again.raw, first.raw))

        ack = call.ack(first)
        check(b"Route: " + rr.encode() in ack, "the ACK has no Route")
        uac.send(ack, sipd.port)
        got = uas.expect_request("ACK", call.call_id)
        sipua.check_top_via(got, sipd, [call.branch])
        check(got.uri == uas.uri("uas"),
              "ACK relayed to Request-URI %s, not the Contact %s" % (
                  got.uri, uas.uri("uas")))
        check(got.get("Route") == [],
              "ACK relayed with Route %s: sipd's entry not removed" %
              got.get("Route"))
        check(got.first("Max-Forwards") == "69",
              "ACK relayed with Max-Forwards %s, not 69" %
              got.first("Max-Forwards"))
        # the UAC's retransmitted 200s came T1 apart: a second ACK would
        # follow the last within that
        extra = [m for m in uas.collect(sipua.silence()) if
                 m.method == "ACK"]
        check(extra == [], "the ACK reached the UAS again: %s" % extra)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
