"""The final response a forking proxy sends (RFC 3261 16.7 step 6,
sipd.8 "Responses and CANCEL"), and CANCEL of branches (16.10).

carol has three contacts of equal q, so an INVITE to her rings all three
in parallel.  Each case answers the three branches and checks what the
caller receives on its own socket:
  486, 603, 404      -> 603   (a 6xx wins over any 4xx)
  503, 486, 503      -> 486   (the lowest class: 4xx before 5xx)
  503, 503, 503      -> 500   (a 503 is never passed upstream as 503)
  302, 486, 603      -> 603   (6xx first, even over a lower class)
A rule to a TCP port where nothing listens: the transport error counts
as 503, so the caller gets 500.  And CANCEL: A rings before the CANCEL
and gets it at once; B and C ring only after it, and each gets a CANCEL
once it does; the caller gets 200 to its CANCEL and one 487."""

import sipdtest
import sipua
from sipdtest import check

CONF = """domain add example.com
account add carol@example.com password c4rol-pw"""


def invite(uac, sipd, uas):
    """An INVITE to carol; returns the call and the INVITE each of uas
    received."""
    call = sipua.Call(uac, "sip:carol@example.com")
    uac.send(call.request("INVITE"), sipd.port)
    return call, [ua.expect_request("INVITE", call.call_id) for ua in uas]


def final(uac, call):
    return uac.expect(
        "a final response to the INVITE",
        lambda m: (not m.is_request() and m.status >= 200 and
                   m.call_id() == call.call_id and
                   m.cseq()[1] == "INVITE"), 5.0)


def best(sipd, uac, uas, answers, want):
    call, invs = invite(uac, sipd, uas)
    for ua, inv, status in zip(uas, invs, answers):
        ua.respond(inv, status, reason="Answer %d" % status)
    resp = final(uac, call)
    check(resp.status == want, "branches answering %s: the caller got %d, "
          "not %d" % (answers, resp.status, want))
    check(sipua.branches(resp) == [call.branch],
          "%d came with Vias %s" % (resp.status, resp.get("Via")))
    uac.send(call.ack(resp), sipd.port)
    # one final response only: another would come within T1 (500 ms)
    more = [m for m in uac.collect(0.6) if not m.is_request() and
            m.status >= 200 and m.call_id() == call.call_id]
    check(more == [], "more final responses: %s" % more)
    # each branch got its ACK (17.1.1.3), not forwarded by the caller
    for ua, inv in zip(uas, invs):
        ua.expect_request("ACK", call.call_id)


def cancel_late(sipd, uac, uas):
    call, invs = invite(uac, sipd, uas)
    a, b, c = uas
    ia, ib, ic = invs
    a.respond(ia, 180, to_tag="aaaa")
    uac.expect_response(180, call)
    uac.send(call.cancel(), sipd.port)
    uac.expect_response(200, call, "CANCEL")
    ca = a.expect_request("CANCEL", call.call_id)
    check(ca.branch() == ia.branch(), "A's CANCEL is not in its INVITE's "
          "transaction: %s" % ca.get("Via"))
    a.respond(ca, 200)
    a.respond(ia, 487, to_tag="aaaa")
    # B and C have not answered: no CANCEL for them yet (RFC 3261 9.1)
    for ua in (b, c):
        early = [m for m in ua.collect(0.3) if m.is_request() and
                 m.method == "CANCEL"]
        check(early == [], "CANCEL sent before the branch answered")
    for ua, inv, tag in ((b, ib, "bbbb"), (c, ic, "cccc")):
        ua.respond(inv, 180, to_tag=tag)
        cx = ua.expect_request("CANCEL", call.call_id)
        check(cx.branch() == inv.branch(), "late CANCEL in branch %s, "
              "not the INVITE's %s" % (cx.branch(), inv.branch()))
        ua.respond(cx, 200)
        ua.respond(inv, 487, to_tag=tag)
    resp = final(uac, call)
    check(resp.status == 487, "cancelled call ended with %d, not 487" %
          resp.status)
    uac.send(call.ack(resp), sipd.port)
    for ua in uas:
        ua.expect_request("ACK", call.call_id)


def transport_error(sipd, uac):
    dead = sipua.free_port()  # nothing listens there: refused
    p = sipdtest.sipctl(sipd, "route", "add", "dead.example",
                        "127.0.0.1:%d" % dead, "transport", "tcp")
    check(p.returncode == 0, "route add: %s" % p.stderr)
    for method in ("INVITE", "MESSAGE"):
        call = sipua.Call(uac, "sip:someone@dead.example")
        uac.send(call.request(method), sipd.port)
        resp = uac.expect(
            "a final response to %s" % method,
            lambda m: (not m.is_request() and m.status >= 200 and
                       m.call_id() == call.call_id), 5.0)
        check(resp.status == 500, "%s to a refused TCP port got %d, not "
              "500 (a transport error is a 503, sent as 500)" % (
                  method, resp.status))
        if method == "INVITE":
            uac.send(call.ack(resp), sipd.port)


def test(binary, started):
    uac = sipua.UA()
    uas = [sipua.UA() for _ in range(3)]
    try:
        sipd = sipua.start_proxy(binary, started, conf=lambda s: CONF)
        for ua in uas:
            ok = sipua.register(ua, sipd.port, "carol", "example.com",
                                "c4rol-pw")
            check(ok.status == 200, "REGISTER: %d" % ok.status)
        best(sipd, uac, uas, (486, 603, 404), 603)
        best(sipd, uac, uas, (503, 486, 503), 486)
        best(sipd, uac, uas, (503, 503, 503), 500)
        best(sipd, uac, uas, (302, 486, 603), 603)
        cancel_late(sipd, uac, uas)
        transport_error(sipd, uac)
    finally:
        uac.close()
        for ua in uas:
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
