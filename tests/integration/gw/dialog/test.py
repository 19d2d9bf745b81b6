"""The requests of a gateway call's dialog carry, on each side, the From
and To URIs that side's INVITE had (RFC 3261 12.2.1.1), with Substitute
From and To on.  Gateway E is a Python UA on 127.0.0.5 (username eu,
domain e.test), reached through NoRelay:Signal:<6*> = *@E.sipgw by a
client on 127.0.0.1 whose From carries an epid.

Call 1, INVITE sip:65551234@example.com from <sip:uac@127.0.0.1>;tag=C;
epid=X:
- E's INVITE: From <sip:eu@e.test>;tag=C;epid=X, To <sip:5551234@e.test>;
  its Record-Route has sipd's signed gwd parameter.
- The caller's ACK, re-INVITE and its ACK reach E with From
  sip:eu@e.test and To sip:5551234@e.test (tags and epid kept); the 200
  of the re-INVITE reaches the caller with its own From and To.
- E's re-INVITE, its ACK and E's BYE reach the caller with From
  sip:65551234@example.com (E's tag) and To sip:uac@127.0.0.1 (tag C,
  epid X); the caller's 200s reach E with E's own From and To.
Call 2: the caller hangs up: E's BYE has the substituted URIs.
Call 3: the caller's BYE carries a Route whose gwd parameter names
another number (the Record-Route's own signature intact): sipd does not
trust it, and E's BYE has no To with that number.
The old sipd passes in-dialog requests on with the From and To their
sender wrote: E's ACK and re-INVITE name sip:uac@127.0.0.1."""

import re
import tempfile

import sipdtest
import sipua
from sipdtest import check


def uri_of(value):
    """The URI of a From or To value (name-addr or addr-spec)."""
    m = re.search(r"<([^>]*)>", value)
    return m.group(1) if m else value.split(";")[0].strip()


def request(ua, method, ruri, frm, to, call_id, cseq, routes, contact=True):
    branch = "z9hG4bK%s" % sipdtest.new_tag()
    hdrs = [("Via", ua.via(branch)), ("Max-Forwards", "70")]
    hdrs += [("Route", r) for r in routes]
    hdrs += [("From", frm), ("To", to), ("Call-ID", call_id),
             ("CSeq", "%d %s" % (cseq, method))]
    if contact and method == "INVITE":
        hdrs.append(("Contact", "<%s>" % ua.uri("dlg")))
    hdrs.append(("Content-Length", "0"))
    text = "%s %s SIP/2.0\r\n" % (method, ruri)
    text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
    return text.encode()


def response_to(ua, call_id, cseq, method, timeout=5.0):
    return ua.expect("the response to %s %d" % (method, cseq), lambda m: (
        not m.is_request() and m.call_id() == call_id and
        m.cseq() == (cseq, method) and m.status >= 200), timeout)


def check_uris(msg, frm, to, what):
    check(uri_of(msg.first("From")) == frm and uri_of(msg.first("To")) == to,
          "%s: From %s To %s, not From %s To %s" % (
              what, msg.first("From"), msg.first("To"), frm, to))


class Dialog:
    """Call 1..3's state on both sides."""

    def __init__(self, caller, gw, sipd):
        self.caller, self.gw, self.sipd = caller, gw, sipd
        self.call_id = "%s@dlg" % sipdtest.new_tag()
        self.ctag = sipdtest.new_tag()
        self.gtag = sipdtest.new_tag()
        self.cfrom = "<sip:uac@127.0.0.1>;tag=%s;epid=X1" % self.ctag
        self.cto = "<sip:65551234@example.com>"
        self.cseq_c = 1
        self.cseq_g = 1

    def start(self):
        self.caller.send(request(
            self.caller, "INVITE", "sip:65551234@example.com", self.cfrom,
            self.cto, self.call_id, 1, []), self.sipd.port)
        inv = self.gw.expect_request("INVITE", self.call_id, 5.0)
        check(inv.first("From") == "<sip:eu@e.test>;tag=%s;epid=X1" %
              self.ctag and inv.first("To") == "<sip:5551234@e.test>",
              "E's INVITE: From %s To %s" % (inv.first("From"),
                                            inv.first("To")))
        self.rr = inv.get("Record-Route")
        # E's view: local = the To it got, remote = the From it got
        self.gfrom = inv.first("To") + ";tag=" + self.gtag
        self.gto = inv.first("From")
        self.gw.respond(inv, 200, to_tag=self.gtag)
        ok = response_to(self.caller, self.call_id, 1, "INVITE")
        check(ok.status == 200, "the call got %d" % ok.status)
        check(ok.first("From") == self.cfrom and
              ok.first("To") == self.cto + ";tag=" + self.gtag,
              "the caller's 200: From %s To %s" % (ok.first("From"),
                                                  ok.first("To")))
        self.cto_tagged = ok.first("To")
        self.gw_contact = ok.first("Contact").strip("<>")
        self.caller_routes = list(reversed(ok.get("Record-Route")))
        self.caller_send("ACK", 1)
        ack = self.gw.expect_request("ACK", self.call_id, 5.0)
        check_uris(ack, "sip:eu@e.test", "sip:5551234@e.test",
                   "the caller's ACK at E")
        check(all(";gwd=" in r for r in self.rr),
              "E's INVITE has no gwd Record-Route: %s" % self.rr)

    def caller_send(self, method, cseq=None, routes=None):
        if cseq is None:
            self.cseq_c += 1
            cseq = self.cseq_c
        self.caller.send(request(
            self.caller, method, self.gw_contact, self.cfrom,
            self.cto_tagged, self.call_id, cseq,
            self.caller_routes if routes is None else routes),
            self.sipd.port)
        return cseq

    def gw_send(self, method, cseq=None):
        if cseq is None:
            self.cseq_g += 1
            cseq = self.cseq_g
        # RFC 3261 12.2.1.1: the route set in the Record-Route's order
        self.gw.send(request(
            self.gw, method, "sip:uac@127.0.0.1:%d" % self.caller.port,
            self.gfrom, self.gto, self.call_id, cseq, self.rr),
            self.sipd.port)
        return cseq


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-dialog-")
    caller = sipua.UA("127.0.0.1")
    gw = sipua.UA("127.0.0.5")
    try:
        sipd = sipdtest.Sipd(binary, clients=False, conf=(
            "client-ip add 127.0.0.1/32\n"
            "domain add example.com\n"
            "gateway add E domain e.test via 127.0.0.5:%d username eu "
            "password p substitute-from on substitute-to on\n"
            "router add NoRelay:Signal:<6*> = *@E.sipgw\n" % gw.port))
        started.append(sipd)
        sipd.start()
        gw_side = ("sip:eu@e.test", "sip:5551234@e.test")
        caller_side = ("sip:65551234@example.com", "sip:uac@127.0.0.1")

        d = Dialog(caller, gw, sipd)
        d.start()
        # the caller's re-INVITE
        cseq = d.caller_send("INVITE")
        inv = gw.expect_request("INVITE", d.call_id, 5.0)
        check_uris(inv, gw_side[0], gw_side[1], "the caller's re-INVITE "
                   "at E")
        check(inv.first("From").endswith(";tag=%s;epid=X1" % d.ctag),
              "the re-INVITE's From lost its tag or epid: %s" %
              inv.first("From"))
        gw.respond(inv, 200)
        ok = response_to(caller, d.call_id, cseq, "INVITE")
        check(ok.status == 200 and ok.first("From") == d.cfrom and
              ok.first("To") == d.cto_tagged,
              "the re-INVITE's 200 at the caller: %s From %s To %s" % (
                  ok.status, ok.first("From"), ok.first("To")))
        d.caller_send("ACK", cseq)
        ack = gw.expect_request("ACK", d.call_id, 5.0)
        check_uris(ack, gw_side[0], gw_side[1], "the re-INVITE's ACK at E")

        # E's re-INVITE
        cseq = d.gw_send("INVITE")
        inv = caller.expect_request("INVITE", d.call_id, 5.0)
        check_uris(inv, caller_side[0], caller_side[1], "E's re-INVITE at "
                   "the caller")
        check(inv.first("To").endswith(";tag=%s;epid=X1" % d.ctag) and
              inv.first("From").endswith(";tag=%s" % d.gtag),
              "E's re-INVITE lost a tag or the epid: From %s To %s" % (
                  inv.first("From"), inv.first("To")))
        caller.respond(inv, 200)
        ok = response_to(gw, d.call_id, cseq, "INVITE")
        check(ok.status == 200 and ok.first("From") == d.gfrom and
              ok.first("To") == d.gto,
              "E's re-INVITE's 200 at E: From %s To %s" % (
                  ok.first("From"), ok.first("To")))
        d.gw_send("ACK", cseq)
        ack = caller.expect_request("ACK", d.call_id, 5.0)
        check_uris(ack, caller_side[0], caller_side[1], "E's ACK at the "
                   "caller")

        # E hangs up
        cseq = d.gw_send("BYE")
        bye = caller.expect_request("BYE", d.call_id, 5.0)
        check_uris(bye, caller_side[0], caller_side[1], "E's BYE at the "
                   "caller")
        caller.respond(bye, 200)
        ok = response_to(gw, d.call_id, cseq, "BYE")
        check(ok.status == 200 and ok.first("From") == d.gfrom and
              ok.first("To") == d.gto, "E's BYE's 200 at E: From %s To %s"
              % (ok.first("From"), ok.first("To")))

        # call 2: the caller hangs up
        d = Dialog(caller, gw, sipd)
        d.start()
        cseq = d.caller_send("BYE")
        bye = gw.expect_request("BYE", d.call_id, 5.0)
        check_uris(bye, gw_side[0], gw_side[1], "the caller's BYE at E")
        gw.respond(bye, 200)
        ok = response_to(caller, d.call_id, cseq, "BYE")
        check(ok.status == 200 and ok.first("From") == d.cfrom and
              ok.first("To") == d.cto_tagged,
              "the BYE's 200 at the caller: From %s To %s" % (
                  ok.first("From"), ok.first("To")))

        # call 3: a gwd parameter the caller changed is not trusted
        d = Dialog(caller, gw, sipd)
        d.start()
        forged = []
        for r in d.caller_routes:
            m = re.search(r";gwd=E\.3\.([0-9a-f]*)\.", r)
            check(m, "no gwd parameter of E in %s" % r)
            other = "".join("%x" % ord(ch) for ch in "5550000")
            forged.append(r[:m.start(1)] + other + r[m.end(1):])
        cseq = d.caller_send("BYE", routes=forged)
        bye = gw.expect_request("BYE", d.call_id, 5.0)
        check("5550000" not in bye.first("To"), "a forged gwd parameter "
              "was trusted: To %s" % bye.first("To"))
        gw.respond(bye, 200)
        response_to(caller, d.call_id, cseq, "BYE")
        sipdtest.stop_clean(sipd)
    finally:
        caller.close()
        gw.close()
        work.cleanup()


sipdtest.run(test)
