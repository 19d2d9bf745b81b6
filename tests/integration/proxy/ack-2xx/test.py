"""The ACK of a 2xx (RFC 3261 16.11, 13.2.2.4): no server transaction
knows it, so sipd relays it statelessly by its Route set and Request-URI:
it reaches the UAS named in the Request-URI with sipd's Via on top of the
UAC's, Max-Forwards one less; a Route entry naming sipd is removed (16.4)
and a Route beyond sipd is followed.  A To tag that merely looks like
sipd's own (its mark) does not make sipd absorb the ACK: sipd's tags
carry its signature."""

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas, next_hop = sipua.UA(), sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        call = sipua.Call(uac, uas.uri("uas"))
        to = "<%s>;tag=uas1" % uas.uri("uas")

        uac.send(call.request("ACK", to=to), sipd.port)
        ack = uas.expect_request("ACK", call.call_id)
        sipua.check_top_via(ack, sipd, [call.branch])
        check(ack.uri == uas.uri("uas"), "ACK relayed to %s" % ack.uri)
        check(ack.first("Max-Forwards") == "69",
              "ACK relayed with Max-Forwards %s, not 69" %
              ack.first("Max-Forwards"))

        ours = "<sip:127.0.0.1:%d;lr>" % sipd.port
        uac.send(call.request("ACK", to=to, extra=[("Route", ours)]),
                 sipd.port)
        ack = uas.expect_request("ACK", call.call_id)
        sipua.check_top_via(ack, sipd, [call.branch])
        check(ack.get("Route") == [],
              "ACK relayed with Route %s: sipd's entry not removed" %
              ack.get("Route"))

        beyond = "<sip:127.0.0.1:%d;lr>" % next_hop.port
        uac.send(call.request("ACK", to=to,
                              extra=[("Route", ours), ("Route", beyond)]),
                 sipd.port)
        ack = next_hop.expect_request("ACK", call.call_id)
        sipua.check_top_via(ack, sipd, [call.branch])
        check(ack.get("Route") == [beyond],
              "ACK relayed with Route %s, not [%s]" % (
                  ack.get("Route"), beyond))
        check(ack.uri == uas.uri("uas"), "ACK relayed to %s" % ack.uri)
        # a peer's To tag that looks like sipd's (its mark, "5d", and
        # its old length): relayed, not taken for the ACK of sipd's own
        # answer (one baresip tag in 256 was absorbed so)
        for look_alike in ("5d0165761a864c6d", "5d" + "0" * 22):
            call2 = sipua.Call(uac, uas.uri("uas"))
            uac.send(call2.request("ACK", to="<%s>;tag=%s" % (
                uas.uri("uas"), look_alike)), sipd.port)
            ack = uas.expect_request("ACK", call2.call_id)
            check(ack.uri == uas.uri("uas"),
                  "ACK with To tag %s relayed to %s" % (look_alike, ack.uri))
        stray = [m for m in uas.collect(sipua.silence()) if
                 m.method == "ACK"]
        check(stray == [], "the UAS got the ACK routed elsewhere: %s" % stray)
        check(uac.collect(0.2) == [], "the UAC got an answer to an ACK")
    finally:
        uac.close()
        uas.close()
        next_hop.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
