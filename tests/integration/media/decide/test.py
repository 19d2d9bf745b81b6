"""Which calls sipd relays under "set media-relay auto" (the default),
with "lan add 127.0.0.2/32": 127.0.0.2 is the LAN, the rest of the
loopback the WAN.  Each case is judged by what the callee received.

- LAN caller (127.0.0.2) to a WAN callee (127.0.0.3): relayed (the
  offer names sipd and a relay port, sipd Record-Routes), and RTP flows
  both ways through the relay.
- WAN caller to the LAN callee: relayed too (the other way round).
- WAN to WAN (127.0.0.3 to 127.0.0.4) and LAN to LAN (127.0.0.2 to
  127.0.0.2): not relayed, the offer arrives as the caller wrote it,
  without sipd's Record-Route: the endpoints reach each other.
- IPv4 caller to an IPv6 callee (::1), and back: relayed, each side
  given an address of its own family (skipped without ::1).
- "set media-relay-lan off": the LAN to WAN call is not relayed; "set
  media-relay-family off": nor is the IPv4 to IPv6 call; "set
  media-relay never" neither, and "always" relays WAN to WAN.
Against a sipd without the decision (media-relay never, or the landed
sipd) the first case fails: the offer names the caller."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check, sipctl  # noqa: E402


def place(sipd, caller, callee, port=None):
    """One call caller -> callee up to the 200 and the ACK; returns
    (the INVITE callee got, the 200 the caller got)."""
    call = mediaua.Call(caller, callee.uri("bob"))
    caller.send(mediaua.invite(call, None, caller.offer()), port or
                sipd.port, "::1" if ":" in caller.host else "127.0.0.1")
    inv = callee.expect_request("INVITE", call.call_id)
    to = mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, call, "INVITE")
    caller.send(call.ack(ok), port or sipd.port,
                "::1" if ":" in caller.host else "127.0.0.1")
    bye = mediaua.in_dialog(call, "BYE", ok, to)
    return inv, ok, bye


def relayed(inv, ok, caller, callee):
    """Whether the call was relayed; checks that both SDPs agree."""
    addr_b, ports_b, _ = mediaua.sdp_media(inv.body)
    addr_a, ports_a, _ = mediaua.sdp_media(ok.body)
    to_callee = ports_b != [caller.rtp_port]
    to_caller = ports_a != [callee.rtp_port]
    check(to_callee == to_caller, "half relayed: %r / %r" % (inv.body,
                                                              ok.body))
    if to_callee:
        check(addr_b in ("127.0.0.1", "::1") and
              addr_a in ("127.0.0.1", "::1"),
              "relayed to %r and %r" % (addr_b, addr_a))
        check(inv.get("Record-Route"), "a relayed call not Record-Routed")
    else:
        check(addr_b == caller.host and addr_a == callee.host,
              "not relayed but the SDP changed: %r / %r" % (addr_b, addr_a))
        check(not inv.get("Record-Route"),
              "Record-Route on a call not relayed: %r" % inv.get(
                  "Record-Route"))
    return to_callee


def call(sipd, a, b, port=None):
    inv, ok, bye = place(sipd, a, b, port)
    r = relayed(inv, ok, a, b)
    host = "::1" if ":" in a.host else "127.0.0.1"
    a.send(bye, port or sipd.port, host)
    got = b.expect_request("BYE")
    b.respond(got, 200)
    a.expect("200 to BYE", lambda m: m.status == 200 and
             m.cseq()[1] == "BYE")
    return r, inv, ok


def setting(sipd, *words):
    p = sipctl(sipd, "set", *words)
    check(p.returncode == 0, "set %s: %r" % (" ".join(words), p.stderr))


def test(binary, started):
    v6 = sipdtest.ipv6_available()
    lo, hi = mediaua.free_range(500)
    sipd = Sipd(binary, listeners=("127.0.0.1", "::1") if v6 else
                ("127.0.0.1",), conf="lan add 127.0.0.2/32\n"
                "set media-ports %d-%d" % (lo, hi))
    started.append(sipd)
    sipd.start()
    lan = mediaua.Phone("127.0.0.2")
    lan2 = mediaua.Phone("127.0.0.2")
    wan = mediaua.Phone("127.0.0.3")
    wan2 = mediaua.Phone("127.0.0.4")

    r, inv, ok = call(sipd, lan, wan)
    check(r, "LAN to WAN not relayed: %r" % inv.body)
    check(call(sipd, wan, lan)[0], "WAN to LAN not relayed")
    check(not call(sipd, wan, wan2)[0], "WAN to WAN relayed")
    check(not call(sipd, lan, lan2)[0], "LAN to LAN relayed")
    mediaua.wait_no_relays(sipd, [])

    # media through the LAN to WAN relay, both ways
    inv, ok, bye = place(sipd, lan, wan)
    relay_b = mediaua.sdp_media(inv.body)[1][0]
    relay_a = mediaua.sdp_media(ok.body)[1][0]
    lan.send_rtp("127.0.0.1", relay_a, 20)
    got_wan, _ = wan.count_rtp(5, want=20)
    wan.send_rtp("127.0.0.1", relay_b, 20)
    got_lan, _ = lan.count_rtp(5, want=20)
    check(got_wan == 20 and got_lan == 20,
          "through the relay: WAN got %d, LAN got %d of 20" % (
              got_wan, got_lan))
    lan.send(bye, sipd.port)
    wan.respond(wan.expect_request("BYE"), 200)
    lan.expect("200 to BYE", lambda m: m.status == 200)
    mediaua.wait_no_relays(sipd, [relay_a, relay_b])

    if v6:
        six = mediaua.Phone("::1")
        r, inv, ok = call(sipd, wan, six)
        check(r and mediaua.sdp_media(inv.body)[0] == "::1" and
              mediaua.sdp_media(ok.body)[0] == "127.0.0.1",
              "IPv4 to IPv6: %r / %r" % (inv.body, ok.body))
        r, inv, ok = call(sipd, six, wan2, sipd.ports[1])
        check(r and mediaua.sdp_media(inv.body)[0] == "127.0.0.1" and
              mediaua.sdp_media(ok.body)[0] == "::1",
              "IPv6 to IPv4: %r / %r" % (inv.body, ok.body))
        setting(sipd, "media-relay-family", "off")
        check(not call(sipd, wan, six)[0], "family off: relayed")
    setting(sipd, "media-relay-lan", "off")
    check(not call(sipd, lan, wan)[0], "lan off: LAN to WAN relayed")
    setting(sipd, "media-relay-lan", "on")
    setting(sipd, "media-relay", "never")
    check(not call(sipd, lan, wan)[0], "never: relayed")
    setting(sipd, "media-relay", "always")
    check(call(sipd, wan, wan2)[0], "always: WAN to WAN not relayed")
    mediaua.wait_no_relays(sipd, [])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
