"""The seed's loop case: a LAN call that leaves for the WAN and comes back
into the same LAN is not relayed; the endpoints talk directly.

"lan add 127.0.0.2/32".  The LAN phone A calls a WAN server W
(127.0.0.3): LAN to WAN, so sipd relays it and W's offer names sipd's
relay.  W (a back-to-back agent) calls the LAN phone C through sipd with
that same offer: WAN to LAN, but the offer names one of sipd's own
relay legs, and A and C reach each other, so C receives A's own address
and port.  C's answer goes back through W to A unchanged (C's own
address), the first relay is freed with it, "show media" lists nothing,
and A's RTP reaches C directly.  Without the loop rule C would get a
second relay's port (and the media would hairpin through sipd twice).
A relay whose call has its answer is no loop: a stranger's offer naming
its port gets a relay of its own, and the first relay stays."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
from sipdtest import Sipd, check  # noqa: E402


def test(binary, started):
    lo, hi = mediaua.free_range(50)
    sipd = Sipd(binary, conf="lan add 127.0.0.2/32\n"
                "set media-ports %d-%d" % (lo, hi))
    started.append(sipd)
    sipd.start()
    a = mediaua.Phone("127.0.0.2")
    c = mediaua.Phone("127.0.0.2")
    w = mediaua.Phone("127.0.0.3")

    call1 = mediaua.Call(a, w.uri("w"))
    a.send(mediaua.invite(call1, None, a.offer()), sipd.port)
    inv1 = w.expect_request("INVITE", call1.call_id)
    addr, ports, _ = mediaua.sdp_media(inv1.body)
    check(addr == "127.0.0.1" and ports != [a.rtp_port],
          "LAN to WAN not relayed: %r" % inv1.body)
    check(len(mediaua.relays(sipd)) == 1, "no relay for the first leg")

    call2 = mediaua.Call(w, c.uri("c"))
    w.send(mediaua.invite(call2, None, inv1.body), sipd.port)
    inv2 = c.expect_request("INVITE", call2.call_id)
    addr, ports, rtcp = mediaua.sdp_media(inv2.body)
    check(addr == "127.0.0.2" and ports == [a.rtp_port],
          "the call came back into the LAN relayed: %r" % inv2.body)
    check(sipd.wait_log("came back to sipd (a loop)"), "no log line")

    mediaua.respond_sdp(c, inv2, 200, c.offer())
    ok2 = w.expect_response(200, call2, "INVITE")
    w.send(call2.ack(ok2), sipd.port)
    mediaua.respond_sdp(w, inv1, 200, ok2.body.decode())
    ok1 = a.expect_response(200, call1, "INVITE")
    addr, ports, _ = mediaua.sdp_media(ok1.body)
    check(addr == "127.0.0.2" and ports == [c.rtp_port],
          "A's answer: %r" % ok1.body)
    a.send(call1.ack(ok1), sipd.port)
    mediaua.wait_no_relays(sipd, [])

    a.send_rtp("127.0.0.2", c.rtp_port, 10)
    got, srcs = c.count_rtp(5, want=10)
    check(got == 10 and srcs == {("127.0.0.2", a.rtp_port)},
          "direct media: %d of 10 from %r" % (got, srcs))

    # a relay that has its answer is no loop: a stranger who names its
    # port in an offer neither learns A's address nor undoes the relay
    call3 = mediaua.Call(a, w.uri("w"))
    a.send(mediaua.invite(call3, None, a.offer()), sipd.port)
    inv3 = w.expect_request("INVITE", call3.call_id)
    mediaua.respond_sdp(w, inv3, 200, w.offer())
    ok3 = a.expect_response(200, call3, "INVITE")
    a.send(call3.ack(ok3), sipd.port)
    stranger = mediaua.Phone("127.0.0.4")
    call4 = mediaua.Call(stranger, c.uri("c"))
    stranger.send(mediaua.invite(call4, None, inv3.body), sipd.port)
    inv4 = c.expect_request("INVITE", call4.call_id)
    addr, ports, _ = mediaua.sdp_media(inv4.body)
    check(addr == "127.0.0.1" and ports != [a.rtp_port],
          "a stranger naming an answered relay's port: %r" % inv4.body)
    check(len(mediaua.relays(sipd)) == 2, "the first relay went: %r" %
          mediaua.relays(sipd))
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
