"""A Router record or a workaround that asks for a media relay, or forbids
one, under "set media-relay auto" with "lan add 127.0.0.2/32" (127.0.0.2
the LAN, the rest of the loopback the WAN).  Each call is judged by the
INVITE the callee's socket received and the 200 the caller's received.

Router records (the caller dials a name at sipd's address):
- "plain" (no media prefix) to a WAN callee, from a WAN caller: the
  endpoints reach each other, the offer arrives byte for byte as the
  caller wrote it, no Record-Route.
- "MediaRelay:" to the same callee: the offer names sipd's address and a
  relay port, sipd Record-Routes, the answer is rewritten too, and RTP
  sent by each Python endpoint to the relay reaches the other; an
  INVITE without SDP through it gets its relay with the offer in the
  200 and the answer in the ACK.
- "NoMediaRelay:" from the LAN caller to the WAN callee (a call the LAN
  condition relays: shown by "plain" from the LAN): the original SDP.
- "router test" says the record's choice ("relay", "no relay", "auto").
Workarounds:
- product "Acme*" mediaRelay: a WAN to WAN call whose INVITE carries
  User-Agent "Acme Phone 2" is relayed; the same call without it is not.
- site "=127.0.0.5" mediaRelay: a WAN call to a callee at 127.0.0.5 is
  relayed.
- site "=127.0.0.6" noMediaRelay: the LAN caller's call to 127.0.0.6 is
  not, and neither is a call through a "MediaRelay:" record to it: a
  refusal outweighs a demand.
- "set media-relay always" relays "plain" WAN to WAN but not a call a
  NoMediaRelay record or workaround forbids.
A call that ends leaves no relay.  Against a sipd without the choice
(the landed one): "MediaRelay:" is an unknown prefix and mediaRelay an
unknown method, so the configuration does not load (sipd does not
start); with the records and workarounds left out, the forced calls go
unrelayed and the forbidden one relayed, and the checks name them."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
from sipdtest import Sipd, check, sipctl  # noqa: E402


def place(sipd, caller, callee, ruri, ua=None):
    """One call caller -> ruri (which sipd routes to callee) up to the 200
    and the ACK; returns (the offer sent, the INVITE callee got, the 200
    caller got, the BYE to send)."""
    call = mediaua.Call(caller, callee.uri("bob"))
    offer = caller.offer()
    extra = [("User-Agent", ua)] if ua else []
    caller.send(mediaua.invite(call, ruri, offer, extra=extra), sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    answer = callee.offer()
    to = mediaua.respond_sdp(callee, inv, 200, answer)
    ok = caller.expect_response(200, call, "INVITE")
    caller.send(call.ack(ok), sipd.port)
    bye = mediaua.in_dialog(call, "BYE", ok, to)
    return offer, answer, inv, ok, bye


def hang_up(sipd, caller, callee, bye):
    caller.send(bye, sipd.port)
    callee.respond(callee.expect_request("BYE"), 200)
    caller.expect("200 to BYE", lambda m: m.status == 200 and
                  m.cseq()[1] == "BYE")


def relayed(what, offer, answer, inv, ok, caller, callee):
    """Whether the call was relayed, from what each endpoint received:
    both SDPs rewritten to sipd, or both exactly as written."""
    addr_b, ports_b, _ = mediaua.sdp_media(inv.body)
    addr_a, ports_a, _ = mediaua.sdp_media(ok.body)
    if inv.body == offer.encode():
        check(ok.body == answer.encode(), "%s: the offer passed unchanged "
              "but not the answer: %r" % (what, ok.body))
        check(not inv.get("Record-Route"), "%s: Record-Route on a call "
              "not relayed: %r" % (what, inv.get("Record-Route")))
        return False
    check(addr_b == "127.0.0.1" and addr_a == "127.0.0.1" and
          ports_b != [caller.rtp_port] and ports_a != [callee.rtp_port],
          "%s: half relayed or rewritten wrong: %r / %r" % (
              what, inv.body, ok.body))
    check(b"a=candidate" not in inv.body, "%s: ICE candidates kept" % what)
    check(inv.get("Record-Route"), "%s: relayed, not Record-Routed" % what)
    return True


def call(sipd, what, caller, callee, ruri, ua=None):
    offer, answer, inv, ok, bye = place(sipd, caller, callee, ruri, ua)
    r = relayed(what, offer, answer, inv, ok, caller, callee)
    hang_up(sipd, caller, callee, bye)
    return r


def router_test(sipd, addr):
    p = sipctl(sipd, "-j", "router", "test", addr)
    check(p.returncode == 0, "router test %s: %r" % (addr, p.stderr))
    return json.loads(p.stdout)["data"]


def setting(sipd, *words):
    p = sipctl(sipd, "set", *words)
    check(p.returncode == 0, "set %s: %r" % (" ".join(words), p.stderr))


def test(binary, started):
    lo, hi = mediaua.free_range(200)
    lan = mediaua.Phone("127.0.0.2")
    wan = mediaua.Phone("127.0.0.3")
    bob = mediaua.Phone("127.0.0.4")
    five = mediaua.Phone("127.0.0.5")
    six = mediaua.Phone("127.0.0.6")
    conf = "\n".join([
        "lan add 127.0.0.2/32",
        "set media-ports %d-%d" % (lo, hi),
        "router add Signal:plain@127.0.0.1 = bob@127.0.0.4:%d" % bob.port,
        "router add MediaRelay:Signal:relayed@127.0.0.1 = "
        "bob@127.0.0.4:%d" % bob.port,
        "router add NoMediaRelay:Signal:direct@127.0.0.1 = "
        "bob@127.0.0.4:%d" % bob.port,
        "router add Signal:five@127.0.0.1 = bob@127.0.0.5:%d" % five.port,
        "router add Signal:six@127.0.0.1 = bob@127.0.0.6:%d" % six.port,
        "router add MediaRelay:Signal:sixr@127.0.0.1 = "
        "bob@127.0.0.6:%d" % six.port,
        "workaround product add Acme* mediaRelay",
        "workaround site add =127.0.0.5 mediaRelay",
        "workaround site add =127.0.0.6 noMediaRelay",
    ])
    sipd = Sipd(binary, conf=conf)
    started.append(sipd)
    sipd.start()

    def to(name):
        return "sip:%s@127.0.0.1:%d" % (name, sipd.port)

    # Router records
    check(not call(sipd, "plain WAN to WAN", wan, bob, to("plain")),
          "plain WAN to WAN relayed")
    offer, answer, inv, ok, bye = place(sipd, wan, bob, to("relayed"))
    check(relayed("MediaRelay: record", offer, answer, inv, ok, wan, bob),
          "a MediaRelay: record's call not relayed: the callee got %r" %
          inv.body)
    relay_b = mediaua.sdp_media(inv.body)[1][0]
    relay_a = mediaua.sdp_media(ok.body)[1][0]
    wan.send_rtp("127.0.0.1", relay_a, 20)
    got_bob, src_bob = bob.count_rtp(5, want=20)
    bob.send_rtp("127.0.0.1", relay_b, 20)
    got_wan, src_wan = wan.count_rtp(5, want=20)
    check(got_bob == 20 and got_wan == 20,
          "through the relay: callee got %d, caller got %d of 20" % (
              got_bob, got_wan))
    check(src_bob == {("127.0.0.1", relay_b)} and
          src_wan == {("127.0.0.1", relay_a)},
          "RTP not from the relay: %r / %r" % (src_bob, src_wan))
    hang_up(sipd, wan, bob, bye)
    mediaua.wait_no_relays(sipd, [relay_a, relay_b])

    # an INVITE without SDP: the record's choice holds for the offer in
    # the 200 (RFC 3264 5), answered in the ACK
    c = mediaua.Call(wan, bob.uri("bob"))
    wan.send(c.request("INVITE", uri=to("relayed")), sipd.port)
    inv = bob.expect_request("INVITE", c.call_id)
    check(inv.body == b"" and inv.get("Record-Route"),
          "late offer: the INVITE %r" % inv)
    to_tag = mediaua.respond_sdp(bob, inv, 200, bob.offer())
    ok = wan.expect_response(200, c, "INVITE")
    addr, ports, _ = mediaua.sdp_media(ok.body)
    check(addr == "127.0.0.1" and len(ports) == 1 and lo <= ports[0] <= hi,
          "a MediaRelay: record's offer in a 200 not relayed: %r" % ok.body)
    wan.send(mediaua.with_body(c.ack(ok), wan.offer()), sipd.port)
    ack = bob.expect_request("ACK", c.call_id)
    check(mediaua.sdp_media(ack.body)[0] == "127.0.0.1",
          "the answer in the ACK: %r" % ack.body)
    hang_up(sipd, wan, bob, mediaua.in_dialog(c, "BYE", ok, to_tag))
    mediaua.wait_no_relays(sipd, [])

    check(call(sipd, "plain LAN to WAN", lan, bob, to("plain")),
          "plain LAN to WAN not relayed (the LAN condition)")
    check(not call(sipd, "NoMediaRelay: record", lan, bob, to("direct")),
          "a NoMediaRelay: record's LAN to WAN call relayed")
    check(router_test(sipd, "relayed@127.0.0.1")["media"] == "relay",
          "router test: %r" % router_test(sipd, "relayed@127.0.0.1"))
    check(router_test(sipd, "direct@127.0.0.1")["media"] == "no relay",
          "router test: %r" % router_test(sipd, "direct@127.0.0.1"))
    check(router_test(sipd, "plain@127.0.0.1")["media"] == "auto",
          "router test: %r" % router_test(sipd, "plain@127.0.0.1"))

    # workarounds: the caller's product, the callee's site
    check(call(sipd, "product mediaRelay", wan, bob, to("plain"),
               ua="Acme Phone 2"),
          "a mediaRelay product's WAN to WAN call not relayed")
    check(not call(sipd, "other product", wan, bob, to("plain"),
                   ua="Other Phone"),
          "another product's WAN to WAN call relayed")
    check(call(sipd, "site mediaRelay", wan, five, to("five")),
          "a call to a mediaRelay site not relayed")
    check(not call(sipd, "site noMediaRelay", lan, six, to("six")),
          "a LAN to WAN call to a noMediaRelay site relayed")
    check(not call(sipd, "MediaRelay: to a noMediaRelay site", wan, six,
                   to("sixr")),
          "a MediaRelay: record outweighed a noMediaRelay site")

    # media-relay always: but not what a record or workaround forbids
    setting(sipd, "media-relay", "always")
    check(call(sipd, "always", wan, bob, to("plain")),
          "always: WAN to WAN not relayed")
    check(not call(sipd, "always, NoMediaRelay:", wan, bob, to("direct")),
          "always: a NoMediaRelay: record's call relayed")
    check(not call(sipd, "always, noMediaRelay site", wan, six, to("six")),
          "always: a call to a noMediaRelay site relayed")
    setting(sipd, "media-relay", "never")
    check(not call(sipd, "never, MediaRelay:", wan, bob, to("relayed")),
          "never: a MediaRelay: record's call relayed")
    mediaua.wait_no_relays(sipd, [])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
