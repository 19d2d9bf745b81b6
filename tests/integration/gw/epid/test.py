"""Substitute From and To keep an epid= parameter (needsEpid: a device
that fails when a peer drops it).  Gateway E (a Python UA on 127.0.0.5,
substitute-from and substitute-to) is reached by the Router record
NoRelay:Signal:<6*> = *@E.sipgw from a client on 127.0.0.1 whose
User-Agent matches a needsEpid product workaround.

- From <sip:uac@127.0.0.1>;tag=T;epid=E1 and To
  <sip:65551234@example.com>;epid=E2: E gets From
  <sip:eu@e.test>;tag=T;epid=E1 and To <sip:5551234@e.test>;epid=E2;
  the caller's 200 carries its own From and To back, epid and all.
- The same without angle brackets (From sip:uac@127.0.0.1;tag=T;epid=E3,
  RFC 3261 20.10: the parameters are the header's): E gets the epid.
A sipd that drops the parameters of the From it substitutes, or reads
the epid as part of the URI, gives E a From without it: a failure."""

import sys
import tempfile

import sipdtest
import sipua
from sipdtest import check


def invite(call, from_value, to_value):
    """call's INVITE with From and To replaced by these values."""
    text = call.request("INVITE", extra=[
        ("User-Agent", "Acme Phone 1.0")]).decode()
    lines = []
    for line in text.split("\r\n"):
        if line.startswith("From: "):
            line = "From: " + from_value
        elif line.startswith("To: "):
            line = "To: " + to_value
        lines.append(line)
    return "\r\n".join(lines).encode()


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-epid-")
    caller = sipua.UA("127.0.0.1")
    gw_e = sipua.UA("127.0.0.5")
    try:
        sipd = sipdtest.Sipd(binary, clients=False, conf=(
            "client-ip add 127.0.0.1/32\n"
            "domain add example.com\n"
            "workaround product add \"Acme Phone*\" needsEpid\n"
            "gateway add E domain e.test via 127.0.0.5:%d username eu "
            "password p substitute-from on substitute-to on\n"
            "router add NoRelay:Signal:<6*> = *@E.sipgw\n" % gw_e.port))
        started.append(sipd)
        sipd.start()

        for n, (frm, to, want_from, want_to) in enumerate((
                ("<sip:uac@127.0.0.1>;tag=%s;epid=E1",
                 "<sip:65551234@example.com>;epid=E2",
                 "<sip:eu@e.test>;tag=%s;epid=E1",
                 "<sip:5551234@e.test>;epid=E2"),
                ("sip:uac@127.0.0.1;tag=%s;epid=E3",
                 "<sip:65551234@example.com>",
                 "<sip:eu@e.test>;tag=%s;epid=E3",
                 "<sip:5551234@e.test>"))):
            call = sipua.Call(caller, "sip:65551234@example.com")
            caller.send(invite(call, frm % call.from_tag, to), sipd.port)
            inv = gw_e.expect_request("INVITE", call.call_id, 5.0)
            check(inv.first("From") == want_from % call.from_tag,
                  "case %d: E got From %s, not %s" % (
                      n, inv.first("From"), want_from % call.from_tag))
            check(inv.first("To") == want_to, "case %d: E got To %s, not "
                  "%s" % (n, inv.first("To"), want_to))
            gw_e.respond(inv, 200)
            resp = caller.expect("a final response", lambda m: (
                not m.is_request() and m.status >= 200 and
                m.call_id() == call.call_id), 5.0)
            check(resp.status == 200, "case %d: the call got %d" % (
                n, resp.status))
            check(resp.first("From") == frm % call.from_tag,
                  "case %d: From back to the caller %s" % (
                      n, resp.first("From")))
            check(resp.first("To").startswith(to + ";tag="),
                  "case %d: To back to the caller %s" % (
                      n, resp.first("To")))
            caller.send(call.ack(resp), sipd.port)
            gw_e.expect_request("ACK", call.call_id, 5.0)
        sipdtest.stop_clean(sipd)
    finally:
        caller.close()
        gw_e.close()
        work.cleanup()


sipdtest.run(test)
