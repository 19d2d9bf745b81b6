"""sipd reads an offer's SDP only when the call may need a relay; the
offers whose SDP alone decides are still relayed.  "set media-relay
auto", no LAN: every loopback address is the WAN, so a call between two
IPv4 endpoints needs no relay by its addresses.

- An IPv4 caller (127.0.0.3) whose SDP puts its media on IPv6 (c=IN IP6
  ::1) calls an IPv4 callee (127.0.0.4): the caller's media family is
  not the callee's, so the callee receives an offer naming sipd's IPv4
  relay, the caller an answer naming its IPv6 side, and RTP from the
  caller's IPv6 socket reaches the callee's IPv4 one through it.  With
  "set media-relay-family off" the same offer arrives unchanged.
- An offer whose m= port lies in the relay range but names no relay of
  sipd's (the caller's own address), and an offer with bad SDP: both
  arrive byte for byte as written, the calls go through.
- The loop case (an offer naming one of sipd's relays) is
  media/loop's.
Skipped without ::1.  This guards the shortcut: the landed sipd (which
always read the SDP) passes too; a shortcut that ignored the c= family
fails the first check (the offer arrives unrelayed)."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
from sipdtest import Sipd, check, sipctl  # noqa: E402


def place(sipd, caller, callee, offer):
    call = mediaua.Call(caller, callee.uri("bob"))
    caller.send(mediaua.invite(call, None, offer), sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    to = mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, call, "INVITE")
    caller.send(call.ack(ok), sipd.port)
    return inv, ok, mediaua.in_dialog(call, "BYE", ok, to)


def hang_up(sipd, caller, callee, bye):
    caller.send(bye, sipd.port)
    callee.respond(callee.expect_request("BYE"), 200)
    caller.expect("200 to BYE", lambda m: m.status == 200 and
                  m.cseq()[1] == "BYE")


def test(binary, started):
    if not sipdtest.ipv6_available():
        raise sipdtest.Skip("no ::1")
    lo, hi = mediaua.free_range(50)
    sipd = Sipd(binary, listeners=("127.0.0.1", "::1"),
                conf="set media-ports %d-%d" % (lo, hi))
    started.append(sipd)
    sipd.start()
    caller = mediaua.Phone("127.0.0.3")
    callee = mediaua.Phone("127.0.0.4")
    rtp6, rtcp6 = mediaua.rtp_pair("::1")
    port6 = rtp6.getsockname()[1]
    offer6 = mediaua.sdp("::1", port6)

    inv, ok, bye = place(sipd, caller, callee, offer6)
    addr_b, ports_b, _ = mediaua.sdp_media(inv.body)
    addr_a, ports_a, _ = mediaua.sdp_media(ok.body)
    check(addr_b == "127.0.0.1" and ports_b != [port6],
          "IPv6 media to an IPv4 callee not relayed: the callee got %r" %
          inv.body)
    check(addr_a == "::1" and ports_a != [callee.rtp_port],
          "the caller's answer: %r" % ok.body)
    sent = 0
    for _ in range(20):
        rtp6.sendto(b"\x80\x00" + bytes(170), ("::1", ports_a[0]))
        sent += 1
    got, srcs = callee.count_rtp(5, want=sent)
    check(got == sent and srcs == {("127.0.0.1", ports_b[0])},
          "IPv6 to IPv4 through the relay: %d of %d, from %r" % (
              got, sent, srcs))
    hang_up(sipd, caller, callee, bye)
    mediaua.wait_no_relays(sipd, ports_a + ports_b)

    p = sipctl(sipd, "set", "media-relay-family", "off")
    check(p.returncode == 0, "set: %r" % p.stderr)
    inv, ok, bye = place(sipd, caller, callee, offer6)
    check(inv.body == offer6.encode(), "family off: the offer changed: %r"
          % inv.body)
    hang_up(sipd, caller, callee, bye)

    # a port of the relay range, but no relay's: read, passed unchanged
    offer = mediaua.sdp("127.0.0.3", lo + 2)
    inv, ok, bye = place(sipd, caller, callee, offer)
    check(inv.body == offer.encode(), "an offer naming a free relay port "
          "changed: %r" % inv.body)
    hang_up(sipd, caller, callee, bye)
    # bad SDP (a c= line that does not parse) on a call needing no relay
    bad = offer.replace("c=IN IP4 127.0.0.3", "c=IN IP4 not-an-address")
    inv, ok, bye = place(sipd, caller, callee, bad)
    check(inv.body == bad.encode(), "bad SDP changed: %r" % inv.body)
    hang_up(sipd, caller, callee, bye)
    mediaua.wait_no_relays(sipd, [])
    rtp6.close()
    rtcp6.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
