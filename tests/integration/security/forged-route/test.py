"""A Route entry naming sipd proves nothing unless sipd signed it (its
Record-Route carries sig=, a MAC over the dialog's Call-ID and tag).
sipd runs with loopback not trusted: 127.0.0.3 is a stranger, and the
canary on 127.0.0.2 is a destination the relay policy refuses to it.

What each request from the stranger gets, and the canary must receive
nothing at all:
- INVITE sip:bob@canary, no Route: 407;
- the same with Route <sip:SIPD;lr>: 407 (the entry is popped and the
  policy judges the canary);
- the same in a dialog (To tag) with a forged sig=: 407;
- INVITE sip:SIPD with Route <sip:bob@canary> (a strict router's shape):
  407;
- MESSAGE with five entries naming sipd, then the canary: 407;
- ACK of a 2xx with Route <sip:SIPD;lr> and a forged sig=, to the
  canary: absorbed, never relayed, never answered."""

import sipdtest
import sipreg
import sipua
from sipdtest import check

CONF = """domain add example.com
account add alice@example.com password secret
"""


def final(ua, call, timeout=3.0):
    return ua.expect("a final response to %s" % call.method,
                     lambda m: (not m.is_request() and m.status >= 200 and
                                m.call_id() == call.call_id), timeout)


def refused(sipd, stranger, canary, call, data, what):
    """data (a request of call) from the stranger gets 407, and the
    canary nothing."""
    stranger.send(data, sipd.port)
    try:
        resp = final(stranger, call)
    except sipdtest.Fail:
        got = canary.collect(0.5)
        check(got == [], "%s: relayed to the canary: %s" % (what, got))
        raise
    check(resp.status == 407, "%s: answered %d, not 407" % (
        what, resp.status))
    if call.method == "INVITE":
        stranger.send(call.ack(resp), sipd.port)


def test(binary, started):
    stranger = sipua.UA("127.0.0.3")
    canary = sipua.UA("127.0.0.2")
    try:
        sipd = sipreg.start(binary, started, conf=CONF, client_ip=[])
        ours = "127.0.0.1:%d" % sipd.port
        bob = "sip:bob@127.0.0.2:%d" % canary.port

        call = sipua.Call(stranger, bob)
        refused(sipd, stranger, canary, call, call.request("INVITE"),
                "INVITE to the canary")

        call = sipua.Call(stranger, bob)
        refused(sipd, stranger, canary, call, call.request(
            "INVITE", extra=[("Route", "<sip:%s;lr>" % ours)]),
            "INVITE to the canary with Route naming sipd")

        call = sipua.Call(stranger, bob)
        forged = "<sip:%s;lr;sig=%s>" % (ours, "0123456789abcdef01234567")
        refused(sipd, stranger, canary, call, call.request(
            "INVITE", to="<%s>;tag=callee1" % bob,
            extra=[("Route", forged)]),
            "in-dialog INVITE with a forged signature")

        call = sipua.Call(stranger, "sip:%s" % ours)
        refused(sipd, stranger, canary, call, call.request(
            "INVITE", extra=[("Route", "<%s>" % bob)]),
            "INVITE to sipd with Route naming the canary")

        call = sipua.Call(stranger, bob)
        routes = ["<sip:%s;lr;n=%d>" % (ours, i) for i in range(5)]
        routes.append("<sip:127.0.0.2:%d;lr>" % canary.port)
        refused(sipd, stranger, canary, call, call.request(
            "MESSAGE", extra=[("Route", ", ".join(routes))]),
            "MESSAGE with five entries naming sipd, then the canary")

        call = sipua.Call(stranger, bob)
        for route in ("<sip:%s;lr>" % ours, forged):
            stranger.send(call.request(
                "ACK", to="<%s>;tag=callee1" % bob,
                extra=[("Route", route)]), sipd.port)
        check(sipd.wait_log("absorbed ACK"), "sipd did not absorb the ACK")

        got = canary.collect(1.0)
        check(got == [], "the canary received %s" % got)
        answers = [m for m in stranger.collect(0.3) if m.method is None and
                   m.status >= 200 and m.status != 407]
        check(answers == [], "the stranger got %s" % answers)
    finally:
        stranger.close()
        canary.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
