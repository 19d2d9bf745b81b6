"""In-dialog requests through sipd's signed Record-Route (RFC 3261 12.2,
16.4, 16.12), over UDP and over TCP, with loopback not trusted: both
ends are strangers (127.0.0.3 calls, 127.0.0.4 answers) and set force-rr
on (with two workers, UDP only: see test()).  The caller authenticates its INVITE (407, then alice's
Proxy-Authorization); from then on only the signature on sipd's Route
entry lets the dialog's requests through, both ways:

- the INVITE reaches the callee with Record-Route <sip:SIPD;lr;sig=...>;
- the caller's ACK, re-INVITE (and its ACK) reach the callee, unchallenged;
- the caller's INVITE with the dialog's Route, Call-ID and tags but the
  Request-URI of a third address (127.0.0.2, over UDP) gets 407, and
  nothing reaches that address;
- the callee's BYE with the Route entry stripped of sig=, or signed for
  another dialog (the same entry under another Call-ID), gets 407 and
  the caller receives nothing;
- the callee's BYE with the Route as it came reaches the caller, and the
  caller's 200 reaches the callee;
- the caller's re-INVITE is Record-Routed with the INVITE's very entry,
  the callee's BYE with one signed for the callee's tag, which takes the
  caller's INFO through (a wrong signature would get 407)."""

import sipdtest
import sipreg
import sipua
from sipdtest import check, new_tag

CONF = """domain add example.com
account add alice@example.com password secret
set force-rr on
"""


def final(ua, call_id, method, timeout=3.0):
    return ua.expect("a final response to %s" % method,
                     lambda m: (not m.is_request() and m.status >= 200 and
                                m.call_id() == call_id and
                                m.cseq()[1] == method), timeout)


def callee_request(callee, method, call, contact, to_tag, routes,
                   call_id=None, cseq=1):
    """A request of the callee in call's dialog (its From is the callee,
    its To the caller), to the caller's Contact through routes."""
    hdrs = [("Via", callee.via("z9hG4bK%s%s" % (new_tag(), new_tag()))),
            ("Max-Forwards", "70"),
            ("From", "<%s>;tag=%s" % (callee.uri("bob"), to_tag)),
            ("To", "<sip:uac@%s>;tag=%s" % (call.ua.host, call.from_tag)),
            ("Call-ID", call_id or call.call_id),
            ("CSeq", "%d %s" % (cseq, method))]
    hdrs += [("Route", r) for r in routes]
    hdrs.append(("Content-Length", "0"))
    text = "%s %s SIP/2.0\r\n" % (method, contact)
    return (text + "".join("%s: %s\r\n" % h for h in hdrs) +
            "\r\n").encode()


def callee_send(callee, data, sipd, inv):
    if callee.transport == "UDP":
        callee.send(data, sipd.port)
    else:
        inv.conn.sendall(data)  # the connection sipd opened


def dialog(sipd, caller, callee):
    bob = callee.uri("bob")
    call = sipua.Call(caller, bob)
    caller.send(call.request("INVITE"), sipd.port)
    resp = final(caller, call.call_id, "INVITE")
    check(resp.status == 407, "%s: the stranger's INVITE got %d, not 407"
          % (caller.transport, resp.status))
    caller.send(call.ack(resp), sipd.port)
    ch = sipreg.pick(resp, "MD5", "Proxy-Authenticate")
    auth = sipreg.credentials(ch, "alice", "secret", "INVITE", bob,
                              "MD5")
    caller.send(call.request("INVITE", extra=[("Proxy-Authorization",
                                               auth)]), sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    rr = inv.get("Record-Route")
    check(len(rr) == 1 and sipua.unsigned_rr(rr[0]) is not None,
          "INVITE reached the callee with Record-Route %s, not sipd's "
          "signed entry" % rr)
    callee.respond(inv, 200, to_tag="callee1")
    ok = caller.expect_response(200, call, "INVITE")
    to = ok.first("To")
    contact = ok.first("Contact").strip("<>")
    routes = list(reversed(ok.get("Record-Route")))

    caller.send(call.ack(ok), sipd.port)
    callee.expect_request("ACK", call.call_id)

    # the caller's re-INVITE, and its ACK
    caller.send(call.request("INVITE", uri=contact, to=to,
                             extra=[("Route", r) for r in routes]),
                sipd.port)
    reinv = callee.expect_request("INVITE", call.call_id)
    check(reinv.cseq()[0] == call.cseq, "the callee got %r" % reinv)
    # the caller's request Record-Routed again: the same entry, signed
    # for the same Call-ID, From tag and two hops
    check(reinv.get("Record-Route") == rr, "%s: the re-INVITE's "
          "Record-Route is %s, not the INVITE's %s" % (
              caller.transport, reinv.get("Record-Route"), rr))
    callee.respond(reinv, 200, to_tag="callee1")
    ok2 = caller.expect_response(200, call, "INVITE")
    caller.send(call.ack(ok2), sipd.port)
    callee.expect_request("ACK", call.call_id)

    # the signature holds only between the two ends: the caller reusing
    # it, with the dialog's Call-ID and tags, to reach a third address
    canary = sipua.UA("127.0.0.2")
    try:
        caller.send(call.request("INVITE", uri=canary.uri("canary"), to=to,
                                 extra=[("Route", r) for r in routes]),
                    sipd.port)
        resp = final(caller, call.call_id, "INVITE")
        check(resp.status == 407, "%s: the dialog's Route reused towards "
              "a third address got %d, not 407" % (caller.transport,
                                                   resp.status))
        caller.send(call.ack(resp), sipd.port)
        stray = canary.collect(0.3)
        check(stray == [], "the third address received %s" % stray)
    finally:
        canary.close()

    # the callee's BYE: its route set is the Record-Route as it came
    mine = caller.uri("uac")
    unsigned = [sipua.unsigned_rr(r) for r in rr]
    other = "%s@elsewhere" % new_tag()
    for what, routes_, call_id in (("Route without sig=", unsigned, None),
                                   ("another dialog's Route", rr, other)):
        data = callee_request(callee, "BYE", call, mine, "callee1", routes_,
                              call_id)
        callee_send(callee, data, sipd, inv)
        resp = final(callee, call_id or call.call_id, "BYE")
        check(resp.status == 407, "%s: the callee's BYE with %s got %d, "
              "not 407" % (callee.transport, what, resp.status))
        stray = caller.collect(0.3)
        check(stray == [], "%s: with %s the caller received %s" % (
            callee.transport, what, stray))
    callee_send(callee, callee_request(callee, "BYE", call, mine, "callee1",
                                       rr, cseq=2), sipd, inv)
    bye = caller.expect_request("BYE", call.call_id)
    caller.respond(bye, 200)
    done = final(callee, call.call_id, "BYE")
    check(done.status == 200, "the callee's BYE got %d" % done.status)

    # the callee's BYE was Record-Routed too, signed with its own From
    # tag (callee1): a different signature, and one sipd takes back from
    # the caller, whose To tag that is; a wrong one gets 407
    brr = bye.get("Record-Route")
    check(len(brr) == 1 and sipua.unsigned_rr(brr[0]) is not None and
          brr != rr, "%s: the callee's BYE reached the caller with "
          "Record-Route %s (the INVITE's: %s)" % (callee.transport, brr, rr))
    caller.send(call.request("INFO", uri=contact, to=to,
                             extra=[("Route", r) for r in brr]), sipd.port)
    info = callee.expect_request("INFO", call.call_id)
    callee.respond(info, 200, to_tag="callee1")
    got = final(caller, call.call_id, "INFO")
    check(got.status == 200, "%s: the caller's INFO by the BYE's "
          "Record-Route got %d" % (caller.transport, got.status))


def test(binary, started):
    sipd = sipreg.RegSipd(binary, conf=CONF, client_ip=[])
    sipd.tcp = True
    started.append(sipd)
    sipd.start()
    # With two workers (security/dialog-route-2w) over UDP only: the
    # callee's BYE must go back on the caller's TCP connection, which
    # sipd finds by address only on the worker that accepted it
    transports = ("UDP", "TCP") if sipua.processors() == 1 else ("UDP",)
    for transport in transports:
        if transport == "UDP":
            caller, callee = sipua.UA("127.0.0.3"), sipua.UA("127.0.0.4")
        else:
            caller = sipua.StreamUA("127.0.0.3",
                                    connect=("127.0.0.1", sipd.port))
            callee = sipua.StreamUA("127.0.0.4")
        try:
            dialog(sipd, caller, callee)
        finally:
            caller.close()
            callee.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
