"""Calls through External Gateways, checked on both sides: a provider
stand-in (sipp, provider.xml, on 127.0.0.2) that requires Digest for
REGISTER and INVITE, and Python UAs calling through sipd.  Only
127.0.0.1 is a client-ip, and relaying is open to anybody, so that the
gateway rules alone keep strangers out.  Router records:
NoRelay:Signal:<9*> = *@A.sipgw and NoRelay:Signal:<8*> = *@B.sipgw.

- Gateway A (calls-authenticate, substitute-from, substitute-to,
  registered): the provider's first INVITE for 95551234@example.com is
  sip:5551234@provider.test and carries Authorization with the nonce of
  the last REGISTER's challenge and its next nonce count; From is
  <sip:gwuser@provider.test> with the caller's tag, To
  <sip:5551234@provider.test>.  The caller gets 180 and 200 with its own
  From and To back (the gateway's To tag kept); sipd Record-Routes the
  call, and the caller's ACK and BYE reach the provider through sipd.
- Gateway B (no calls-authenticate, no substitution): the first INVITE
  carries no credentials; the provider's 401 is answered by sipd itself
  (a second INVITE with Authorization, same CSeq) and never reaches the
  caller, who gets 200; From and To are the caller's.
- Gateway D (a Python UA on 127.0.0.4 that challenges every INVITE):
  sipd answers the first 401 once, the second is not passed on either:
  the caller gets 403 and no challenge, D got exactly two INVITEs.
- Gateway E (a Python UA on 127.0.0.5, substitute-from and -to) answers
  and then hangs up itself: its BYE, sent by the Record-Route to sipd
  with the From and To the gateway saw, reaches the caller through
  sipd, and the caller's 200 goes back to E.
- CANCEL after sipd answered a challenge (gateway D again, ringing
  after the second INVITE): the CANCEL D gets has the branch and CSeq
  of the INVITE with credentials (RFC 3261 9.1), and the caller gets
  487.
- Gateway G (a Python UA on 127.0.0.6) answers the INVITE and then
  challenges the caller's BYE: sipd answers that challenge too (a BYE
  with Authorization), the caller gets 200 for its BYE and never the
  401.
- A stranger (127.0.0.3) reaches the provider by no route: through the
  Router (the record is skipped: 404 or 407), a Request-URI
  x@A.sipgw, a Route to the provider, a Request-URI naming the
  provider's domain or its address: each gets 407 (it may prove an
  account) and the provider receives nothing more.
- `show gateways` counts the calls.
The old sipd answers 404 "no gateway" to the calls."""

import os
import sys
import tempfile
import time

import sipdtest
import sipua
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import check  # noqa: E402


def final(ua, call, timeout=5.0):
    return ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), timeout)


def place(ua, sipd, uri):
    """INVITE uri from ua; returns (call, every response received)."""
    call = sipua.Call(ua, uri)
    ua.send(call.request("INVITE"), sipd.port)
    resp = final(ua, call, 8.0)
    return call, resp


def hang_up(ua, sipd, call, resp):
    ua.send(call.ack(resp), sipd.port)
    to = resp.first("To")
    rr = list(reversed(resp.get("Record-Route")))
    contact = resp.first("Contact").strip("<>")
    ua.send(call.request("BYE", uri=contact, to=to,
                         extra=[("Route", r) for r in rr]), sipd.port)
    ua.expect_response(200, call, "BYE", 5.0)


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-call-")
    prov = gwlib.Provider(work.name, "provider", "provider.xml", 30,
                          sets=(("gwuser", "gwuser"),
                                ("gwpass", "gwpass"), ("expires", 60)))
    caller = sipua.UA("127.0.0.1")
    stranger = sipua.UA("127.0.0.3")
    always = sipua.UA("127.0.0.4")
    gw_e = sipua.UA("127.0.0.5")
    gw_g = sipua.UA("127.0.0.6")
    try:
        sipd = sipdtest.Sipd(binary, clients=False, conf=(
            "client-ip add 127.0.0.1/32\n"
            "relay to-non-clients anybody\n"
            "domain add example.com\n"
            "account add alice@example.com password alice-pw\n"
            "gateway add A domain provider.test via 127.0.0.2:%d "
            "username gwuser password gwpass register-every 60 "
            "contact alice calls-authenticate on substitute-from on "
            "substitute-to on\n"
            "gateway add B domain provider.test via 127.0.0.2:%d "
            "username gwuser password gwpass\n"
            "router add NoRelay:Signal:<9*> = *@A.sipgw\n"
            "router add NoRelay:Signal:<8*> = *@B.sipgw\n"
            "gateway add D domain d.test via 127.0.0.4:%d username u "
            "password p\n"
            "router add NoRelay:Signal:<7*> = *@D.sipgw\n"
            "gateway add E domain e.test via 127.0.0.5:%d username eu "
            "password p substitute-from on substitute-to on\n"
            "router add NoRelay:Signal:<6*> = *@E.sipgw\n"
            "gateway add G domain g.test via 127.0.0.6:%d username gu "
            "password gp\n"
            "router add NoRelay:Signal:<5*> = *@G.sipgw\n"
            % (prov.port, prov.port, always.port, gw_e.port, gw_g.port)))
        started.append(sipd)
        sipd.start()
        gwlib.wait_state(sipd, "A", ("registered",), 5)
        regs = prov.received("REGISTER")
        reg_nonce = gwlib.auth_params(
            regs[-1].first("Authorization") or "").get("nonce")
        check(reg_nonce, "the REGISTER carried no credentials")

        # A: credentials on the first INVITE, From and To substituted
        call, resp = place(caller, sipd, "sip:95551234@example.com")
        check(resp.status == 200, "the call through A got %d" %
              resp.status)
        invs = prov.received("INVITE")
        check(len(invs) == 1, "the provider got %d INVITEs for one call "
              "through A" % len(invs))
        inv = invs[0]
        check(inv.uri == "sip:5551234@provider.test", "Request-URI %s" %
              inv.uri)
        a = gwlib.auth_params(inv.first("Authorization") or "")
        check(a.get("nonce") == reg_nonce and a.get("username") ==
              "gwuser" and a.get("uri") == "sip:5551234@provider.test",
              "the first INVITE's credentials: %s (REGISTER nonce %s)" %
              (inv.first("Authorization"), reg_nonce))
        check(int(a.get("nc", "0"), 16) >= 2, "the nonce count did not go "
              "on from the REGISTER's: %s" % a.get("nc"))
        check(inv.first("From") == "<sip:gwuser@provider.test>;tag=%s" %
              call.from_tag, "From toward the gateway: %s" %
              inv.first("From"))
        check(inv.first("To") == "<sip:5551234@provider.test>",
              "To toward the gateway: %s" % inv.first("To"))
        check(inv.first("Proxy-Authorization") is None,
              "the caller's credentials went on")
        check(resp.first("From") == "<sip:uac@127.0.0.1>;tag=%s" %
              call.from_tag, "From back to the caller: %s" %
              resp.first("From"))
        check(resp.first("To").startswith("<sip:95551234@example.com>;"
                                          "tag="),
              "To back to the caller: %s" % resp.first("To"))
        # the dialog stays with sipd: its Record-Route, and the BYE
        # reaches the provider from sipd
        check(any("127.0.0.1:%d" % sipd.port in r
                  for r in resp.get("Record-Route")),
              "no Record-Route of sipd: %s" % resp.get("Record-Route"))
        hang_up(caller, sipd, call, resp)
        byes = [m for m in prov.received("BYE")
                if m.call_id() == call.call_id]
        check(byes and "127.0.0.1:%d" % sipd.port in byes[0].first("Via"),
              "the BYE did not come through sipd: %s" % byes)

        # B: sipd answers the provider's own challenge
        call, resp = place(caller, sipd, "sip:85551234@example.com")
        check(resp.status == 200, "the call through B got %d" %
              resp.status)
        got = [m for m in caller.seen if not m.is_request() and
               m.call_id() == call.call_id and m.status in (401, 407)]
        check(got == [], "the caller saw the gateway's challenge")
        invs = [m for m in prov.received("INVITE")
                if m.call_id() == call.call_id]
        check(len(invs) == 2 and invs[0].first("Authorization") is None
              and invs[1].first("Authorization") is not None and
              invs[0].cseq() == invs[1].cseq() and
              invs[0].branch() != invs[1].branch(),
              "B's INVITEs: %s" % [(m.cseq(), m.first("Authorization"))
                                   for m in invs])
        check(invs[0].first("From").startswith("<sip:uac@127.0.0.1>"),
              "B substituted From: %s" % invs[0].first("From"))
        hang_up(caller, sipd, call, resp)

        # D challenges again: the caller gets 403, never the challenge
        call = sipua.Call(caller, "sip:75551234@example.com")
        caller.send(call.request("INVITE"), sipd.port)
        invs = []
        for _ in range(2):
            inv = always.expect_request("INVITE", call.call_id, 5.0)
            invs.append(inv)
            always.respond(inv, 401, extra=[(
                "WWW-Authenticate", 'Digest realm="d.test", nonce="n%d", '
                'qop="auth", algorithm=MD5' % len(invs))])
        resp = final(caller, call)
        check(resp.status == 403, "after two challenges the caller got %d"
              % resp.status)
        check(invs[0].first("Authorization") is None and
              invs[1].first("Authorization") is not None,
              "D's INVITEs: %s" % [m.first("Authorization") for m in invs])
        caller.send(call.ack(resp), sipd.port)
        extra = [m for m in always.collect(0.5)
                 if m.is_request() and m.method == "INVITE"]
        check(extra == [], "D got a third INVITE")
        got = [m for m in caller.seen if not m.is_request() and
               m.call_id() == call.call_id and m.status in (401, 407)]
        check(got == [], "the caller saw D's challenge")

        # E hangs up: its BYE reaches the caller through sipd
        call = sipua.Call(caller, "sip:65551234@example.com")
        caller.send(call.request("INVITE"), sipd.port)
        inv = gw_e.expect_request("INVITE", call.call_id, 5.0)
        check(inv.first("From").startswith("<sip:eu@e.test>;tag=") and
              inv.first("To") == "<sip:5551234@e.test>",
              "E got From %s To %s" % (inv.first("From"), inv.first("To")))
        e_tag = sipdtest.new_tag()
        gw_e.respond(inv, 200, to_tag=e_tag)
        resp = final(caller, call)
        check(resp.status == 200, "the call through E got %d" %
              resp.status)
        caller.send(call.ack(resp), sipd.port)
        gw_e.expect_request("ACK", call.call_id, 5.0)
        routes = inv.get("Record-Route")
        check(routes, "E's INVITE had no Record-Route")
        bye = ("BYE %s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.5:%d;branch=z9hG4bKe%s;rport\r\n"
               "Max-Forwards: 70\r\n%s"
               "From: %s;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\n"
               "CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n" % (
                   inv.first("Contact").strip("<>"), gw_e.port,
                   sipdtest.new_tag(),
                   "".join("Route: %s\r\n" % r for r in routes),
                   inv.first("To"), e_tag, inv.first("From"),
                   call.call_id)).encode()
        gw_e.send(bye, sipd.port)
        got = caller.expect_request("BYE", call.call_id, 5.0)
        check("127.0.0.1:%d" % sipd.port in got.first("Via"),
              "E's BYE did not come through sipd: %s" % got.get("Via"))
        caller.respond(got, 200)
        ok = gw_e.expect_response(200, sipua.Call(gw_e, "x",
                                                  call.call_id), "BYE",
                                  5.0)
        check(ok.status == 200, "E got %s for its BYE" % ok)

        # CANCEL of the INVITE sipd sent with credentials
        call = sipua.Call(caller, "sip:75550000@example.com")
        caller.send(call.request("INVITE"), sipd.port)
        inv = always.expect_request("INVITE", call.call_id, 5.0)
        always.respond(inv, 401, extra=[(
            "WWW-Authenticate", 'Digest realm="d.test", nonce="nc1", '
            'qop="auth", algorithm=MD5')])
        inv2 = always.expect_request("INVITE", call.call_id, 5.0)
        tag = sipdtest.new_tag()
        always.respond(inv2, 180, to_tag=tag)
        caller.expect_response(180, call, "INVITE", 5.0)
        caller.send(call.cancel(), sipd.port)
        can = always.expect_request("CANCEL", call.call_id, 5.0)
        check(can.branch() == inv2.branch() and
              can.cseq()[0] == inv2.cseq()[0],
              "the CANCEL (%s %s) is not of the INVITE with credentials "
              "(%s %s)" % (can.branch(), can.cseq(), inv2.branch(),
                           inv2.cseq()))
        always.respond(can, 200)
        always.respond(inv2, 487, to_tag=tag)
        caller.expect_response(200, call, "CANCEL", 5.0)
        resp = caller.expect("the INVITE's final response", lambda m: (
            not m.is_request() and m.status >= 200 and
            m.call_id() == call.call_id and m.cseq()[1] == "INVITE"), 5.0)
        check(resp.status == 487, "the cancelled call got %d" %
              resp.status)
        call.method = "INVITE"
        caller.send(call.ack(resp), sipd.port)

        # G challenges the BYE of its dialog: sipd answers it
        call = sipua.Call(caller, "sip:55551234@example.com")
        caller.send(call.request("INVITE"), sipd.port)
        inv = gw_g.expect_request("INVITE", call.call_id, 5.0)
        gw_g.respond(inv, 200, to_tag=sipdtest.new_tag())
        resp = final(caller, call)
        check(resp.status == 200, "the call through G got %d" %
              resp.status)
        caller.send(call.ack(resp), sipd.port)
        gw_g.expect_request("ACK", call.call_id, 5.0)
        rr = list(reversed(resp.get("Record-Route")))
        caller.send(call.request(
            "BYE", uri=resp.first("Contact").strip("<>"),
            to=resp.first("To"), extra=[("Route", r) for r in rr]),
            sipd.port)
        bye = gw_g.expect_request("BYE", call.call_id, 5.0)
        check(bye.first("Authorization") is None, "the first BYE carried "
              "credentials")
        gw_g.respond(bye, 401, extra=[(
            "WWW-Authenticate", 'Digest realm="g.test", nonce="nb1", '
            'qop="auth", algorithm=MD5')])
        bye2 = gw_g.expect_request("BYE", call.call_id, 5.0)
        a = gwlib.auth_params(bye2.first("Authorization") or "")
        check(a.get("username") == "gu" and a.get("nonce") == "nb1",
              "the BYE's answer: %s" % bye2.first("Authorization"))
        gw_g.respond(bye2, 200)
        caller.expect_response(200, call, "BYE", 5.0)
        got = [m for m in caller.seen if not m.is_request() and
               m.call_id() == call.call_id and m.status in (401, 407)]
        check(got == [], "the caller saw G's challenge of the BYE")
        n = len(prov.received("INVITE"))

        # strangers: by no route
        for uri, extra in (
                ("sip:95551234@example.com", []),
                ("sip:95551234@A.sipgw", []),
                ("sip:5551234@example.com",
                 [("Route", "<sip:127.0.0.2:%d;lr>" % prov.port)]),
                ("sip:5551234@provider.test", []),
                ("sip:5551234@127.0.0.2:%d" % prov.port, [])):
            c = sipua.Call(stranger, uri)
            stranger.send(c.request("INVITE", extra=extra), sipd.port)
            r = final(stranger, c)
            check(r.status in (403, 404, 407), "a stranger's INVITE to %s "
                  "%s got %d" % (uri, extra, r.status))
            stranger.send(c.ack(r), sipd.port)
        time.sleep(0.5)
        check(len(prov.received("INVITE")) == n,
              "a stranger's INVITE reached the provider")
        row = gwlib.show(sipd)
        check(row["A"]["calls"] >= 1 and row["B"]["calls"] >= 1 and
              row["D"]["calls"] == 2 and row["D"]["calls-failed"] == 2 and
              row["A"]["calls-failed"] == 0,
              "show gateways counts: %s" % row)
        sipdtest.stop_clean(sipd)
    finally:
        prov.stop()
        caller.close()
        stranger.close()
        always.close()
        gw_e.close()
        gw_g.close()


sipdtest.run(test)
