"""An INVITE without SDP through the media relay (set media-relay
always): the offer comes in the 200 and the answer in the ACK (RFC 3264
5, RFC 3261 13.2.1).

The INVITE reaches the callee without a body but with sipd's
Record-Route (sipd must see the ACK and the BYE); the 200 the caller
receives names sipd and a relay port; the ACK the callee receives
(relayed statelessly, through sipd by the route set) names sipd and the
other relay port; RTP then flows both ways through the relay; BYE frees
it.  On the landed sipd the 200 reaches the caller with the callee's own
address and the first relay check fails."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check  # noqa: E402


def test(binary, started):
    lo, hi = mediaua.free_range(50)
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d" % (lo, hi))
    started.append(sipd)
    sipd.start()
    caller = mediaua.Phone("127.0.0.2")
    callee = mediaua.Phone("127.0.0.3")
    call = sipua.Call(caller, callee.uri("bob"))

    caller.send(call.request("INVITE"), sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    check(inv.body == b"", "a body appeared: %r" % inv.body)
    check(inv.get("Record-Route"), "no Record-Route on a call that will "
          "need a relay")

    to = mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, call, "INVITE")
    addr, ports, _ = mediaua.sdp_media(ok.body)
    check(addr == "127.0.0.1" and len(ports) == 1 and
          lo <= ports[0] <= hi, "the offer in the 200: %r" % ok.body)
    relay_a = ports[0]

    ack = mediaua.with_body(call.ack(ok), caller.offer())
    caller.send(ack, sipd.port)
    got = callee.expect_request("ACK", call.call_id)
    addr, ports, _ = mediaua.sdp_media(got.body)
    check(addr == "127.0.0.1" and len(ports) == 1 and
          lo <= ports[0] <= hi and ports[0] != relay_a,
          "the answer in the ACK: %r" % got.body)
    relay_b = ports[0]

    caller.send_rtp("127.0.0.1", relay_a, 20)
    got_b, _ = callee.count_rtp(5, want=20)
    callee.send_rtp("127.0.0.1", relay_b, 20)
    got_a, _ = caller.count_rtp(5, want=20)
    check(got_a == 20 and got_b == 20, "media: caller got %d, callee %d "
          "of 20" % (got_a, got_b))

    caller.send(mediaua.in_dialog(call, "BYE", ok, to), sipd.port)
    callee.respond(callee.expect_request("BYE", call.call_id), 200)
    caller.expect_response(200, call, "BYE")
    mediaua.wait_no_relays(sipd, [relay_a, relay_b])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
