"""Far-end NAT and the media relay, under "set media-relay auto" and the
default nated list (RFC 1918 and the like), no lan list.  A phone "behind
a NAT" sends from 127.0.0.2 but writes 10.0.0.5 in its Via, Contact and
SDP, as a phone behind a NAT does.

- NATed caller to a callee that is not (127.0.0.3): relayed.  The relay
  cannot reach 10.0.0.5; the caller's first RTP packet latches its leg,
  and from then on the media flows both ways (each side counts what the
  other sent).
- NATed caller to a callee behind the same NAT (its Request-URI 10.0.0.6,
  reached through the NAT's public address 127.0.0.2): not relayed.
- the same callee behind another NAT (public address 127.0.0.3):
  relayed.
- "set media-relay-nat off": the first call is not relayed.
Against a sipd without the NAT condition the first call is not relayed
and its first check fails."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
from sipdtest import Sipd, check, sipctl  # noqa: E402


def call(sipd, caller, callee, ruri=None, route=None):
    """caller calls callee (through route, if given); returns (relayed,
    the INVITE callee got, the 200 caller got, the BYE to send)."""
    c = mediaua.Call(caller, ruri or callee.uri("bob"))
    extra = [("Route", "<sip:%s;lr>" % route)] if route else []
    caller.send(mediaua.invite(c, None, caller.offer(), extra=extra),
                sipd.port)
    inv = callee.expect_request("INVITE", c.call_id)
    to = mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, c, "INVITE")
    caller.send(c.ack(ok), sipd.port)
    addr, ports, _ = mediaua.sdp_media(inv.body)
    relayed = addr == "127.0.0.1"
    check(relayed == (mediaua.sdp_media(ok.body)[0] == "127.0.0.1"),
          "half relayed: %r / %r" % (inv.body, ok.body))
    check(relayed or ports == [caller.rtp_port],
          "not relayed, yet the port changed: %r" % inv.body)
    return relayed, inv, ok, mediaua.in_dialog(c, "BYE", ok, to)


def hang_up(sipd, caller, callee, bye):
    caller.send(bye, sipd.port)
    callee.respond(callee.expect_request("BYE"), 200)
    caller.expect("200 to BYE", lambda m: m.status == 200 and
                  m.cseq()[1] == "BYE")


def test(binary, started):
    lo, hi = mediaua.free_range(100)
    sipd = Sipd(binary, conf="set media-ports %d-%d" % (lo, hi))
    started.append(sipd)
    sipd.start()
    nated = mediaua.Phone("127.0.0.2", advertise="10.0.0.5")
    wan = mediaua.Phone("127.0.0.3")

    relayed, inv, ok, bye = call(sipd, nated, wan)
    check(relayed, "NATed caller not relayed: %r" % inv.body)
    relay_b = mediaua.sdp_media(inv.body)[1][0]
    relay_a = mediaua.sdp_media(ok.body)[1][0]
    nated.send_rtp("127.0.0.1", relay_a, 20)
    got_wan, _ = wan.count_rtp(5, want=20)
    wan.send_rtp("127.0.0.1", relay_b, 20)
    got_nated, _ = nated.count_rtp(5, want=20)
    check(got_wan == 20 and got_nated == 20,
          "through the NAT: WAN got %d, NATed phone got %d of 20" % (
              got_wan, got_nated))
    hang_up(sipd, nated, wan, bye)

    # a callee behind the same NAT (public 127.0.0.2), and another: its
    # Request-URI is its private address, the Route its NAT's public one
    # (its Contact in the 200 names where it is reached)
    same = mediaua.Phone("127.0.0.2")
    relayed, inv, ok, bye = call(
        sipd, nated, same, ruri="sip:bob@10.0.0.6:%d" % same.port,
        route="127.0.0.2:%d" % same.port)
    check(not relayed, "same NAT relayed: %r" % inv.body)
    hang_up(sipd, nated, same, bye)
    other = mediaua.Phone("127.0.0.3")
    relayed, inv, ok, bye = call(
        sipd, nated, other, ruri="sip:bob@10.0.0.6:%d" % other.port,
        route="127.0.0.3:%d" % other.port)
    check(relayed, "another NAT not relayed: %r" % inv.body)
    hang_up(sipd, nated, other, bye)

    p = sipctl(sipd, "set", "media-relay-nat", "off")
    check(p.returncode == 0, "set media-relay-nat: %r" % p.stderr)
    relayed, inv, ok, bye = call(sipd, nated, wan)
    check(not relayed, "media-relay-nat off, yet relayed")
    hang_up(sipd, nated, wan, bye)
    mediaua.wait_no_relays(sipd, [])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
