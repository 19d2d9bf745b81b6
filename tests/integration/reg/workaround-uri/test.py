"""Workarounds noTCP and noMaddr, on the wire (sipd.conf(5),
Workarounds).

acme registers with "User-Agent: Acme Phone 1.0" (products table: noTCP
noMaddr), plain with "User-Agent: Plain 2"; sipd Record-Routes (force-rr)
and has UDP and TCP on one port, with a size limit of 1000 bytes.

- An INVITE whose Contact carries transport=tcp and maddr= reaches acme
  with neither in its Contact and without transport= in sipd's
  Record-Route; the same INVITE reaches plain with both kept.
- A response relayed to a caller whose User-Agent matches loses them in
  its Contact; to another caller they are kept.
- An INVITE over the size limit reaches acme over UDP (sipd logs it);
  plain gets nothing over UDP (sipd chose TCP, RFC 3261 18.1.1).
- "show registrations" shows the methods in force per binding; at
  low-level sipd logs which workaround changed which header.
- Sites: a request to sip:dev@127.0.0.2;maddr=127.0.0.2 (sites table:
  127.0.0.2 noMaddr) arrives without maddr= in its Request-URI and
  Contact, but with transport=; one to 127.0.0.3 (no entry) with both.
- Removing the entry restores the parameters for acme."""

import json

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA, Call, ProxySipd, silence

CONF = """domain add example.com
account add acme@example.com password acme-pw-1
account add plain@example.com password plain-pw-2
set force-rr on
set size-limit-lan 1000
set size-limit-wan 1000
workaround product add "acme phone*" nomaddr notcp
workaround site add 127.0.0.2 noMaddr
"""


def ctl(sipd, *args):
    p = sipdtest.sipctl(sipd, "-j", *args)
    check(p.returncode == 0, "sipctl %s: %s" % (args, p.stderr))
    return json.loads(p.stdout)["data"] if p.stdout.strip() else None


def register(sipd, ua, user, password, product):
    reg = sipreg.RegClient(ua, sipd.port, user, password)
    ok = reg.register([reg.contact()], 300,
                      extra=[("User-Agent", product)])
    check(ok.status == 200, "REGISTER of %s: %d" % (user, ok.status))


def invite(sipd, uac, user, product="Caller 1", pad=0):
    call = Call(uac, "sip:%s@example.com" % user)
    contact = "<sip:uac@127.0.0.1:%d;transport=tcp;maddr=127.0.0.1>" % (
        uac.port)
    extra = [("User-Agent", product)]
    if pad:
        extra.append(("X-Pad", "p" * pad))
    data = call.request("INVITE", extra=extra)
    data = data.replace(("Contact: <%s>" % uac.uri("uac")).encode(),
                        ("Contact: %s" % contact).encode())
    uac.send(data, sipd.port)
    return call


def finish(sipd, uac, callee, call, req):
    callee.respond(req, 486)
    final = uac.expect("final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5)
    uac.send(call.ack(final), sipd.port)


def contact_and_rr(sipd, uac, callee, user):
    call = invite(sipd, uac, user)
    req = callee.expect_request("INVITE", call.call_id, 3)
    c, rr = req.first("Contact"), req.get("Record-Route")
    finish(sipd, uac, callee, call, req)
    return c, rr


def response_contact(sipd, uac, callee, user, product):
    """The Contact of the 200 relayed to a caller presenting product."""
    call = invite(sipd, uac, user, product)
    req = callee.expect_request("INVITE", call.call_id, 3)
    callee.respond(req, 200, extra=[(
        "Contact", "<sip:uas@127.0.0.1:%d;transport=tcp;maddr=127.0.0.1>"
        % callee.port)])
    ok = uac.expect("200", lambda m: (
        not m.is_request() and m.status == 200 and
        m.call_id() == call.call_id), 5)
    # the 200 carries a Contact of its own: the UA's default one is
    # replaced by the one given above
    contacts = [v for v in ok.get("Contact") if "uas@" in v]
    return contacts[-1] if contacts else None


def site_contact(sipd, uac, host):
    """The Request-URI and Contact a device on host gets in an INVITE to
    its address (with maddr= in the Request-URI)."""
    dev = UA(host)
    try:
        call = Call(uac, "sip:dev@%s:%d;maddr=%s" % (host, dev.port, host))
        data = call.request("INVITE").replace(
            ("Contact: <%s>" % uac.uri("uac")).encode(),
            ("Contact: <sip:uac@127.0.0.1:%d;transport=tcp;maddr=127.0.0.1>"
             % uac.port).encode())
        uac.send(data, sipd.port)
        req = dev.expect_request("INVITE", call.call_id, 3)
        finish(sipd, uac, dev, call, req)
        return req.uri, req.first("Contact")
    finally:
        dev.close()


def test(binary, started):
    sipd = ProxySipd(binary, tcp=True, conf=lambda s: CONF +
                     "log level client low-level")
    started.append(sipd)
    sipd.start()
    uac, acme, plain = UA(), UA(), UA()
    try:
        register(sipd, acme, "acme", "acme-pw-1", "Acme Phone 1.0")
        register(sipd, plain, "plain", "plain-pw-2", "Plain 2")
        rows = {r["aor"]: r["workarounds"] for r in
                ctl(sipd, "show", "registrations")}
        check(rows == {"acme@example.com": "noTCP noMaddr",
                       "plain@example.com": ""}, "bindings: %r" % rows)

        c, rr = contact_and_rr(sipd, uac, acme, "acme")
        check("transport=" not in c and "maddr=" not in c,
              "acme got Contact %r" % c)
        check(rr and not any("transport=" in v for v in rr),
              "acme got Record-Route %r" % rr)
        check(sipd.wait_log("workaround, noTCP noMaddr to 127.0.0.1:%d: "
                            "Contact without transport= and maddr=" %
                            acme.port), "no low-level line for acme")
        c, rr = contact_and_rr(sipd, uac, plain, "plain")
        check("transport=tcp" in c and "maddr=127.0.0.1" in c,
              "plain got Contact %r" % c)

        c = response_contact(sipd, uac, plain, "plain", "ACME Phone 3")
        check(c is not None and "transport=" not in c and "maddr=" not in c,
              "an Acme caller got the 200's Contact %r" % c)
        c = response_contact(sipd, uac, plain, "plain", "Caller 1")
        check(c is not None and "transport=tcp" in c and "maddr=" in c,
              "another caller got the 200's Contact %r" % c)

        # over the size limit: UDP to acme anyway, TCP to plain
        call = invite(sipd, uac, "acme", pad=1200)
        req = acme.expect_request("INVITE", call.call_id, 3)
        check(req.first("Via").startswith("SIP/2.0/UDP"),
              "big INVITE to acme: %r" % req.first("Via"))
        check(sipd.wait_log("workaround, noTCP: "), "no noTCP log line")
        finish(sipd, uac, acme, call, req)
        call = invite(sipd, uac, "plain", pad=1200)
        got = [m for m in plain.collect(silence())
               if m.is_request() and m.call_id() == call.call_id]
        check(not got, "plain got a big INVITE over UDP")

        u, c = site_contact(sipd, uac, "127.0.0.2")
        check("maddr=" not in c and "transport=tcp" in c,
              "the 127.0.0.2 site got Contact %r" % c)
        check("maddr=" not in u, "the 127.0.0.2 site got %r" % u)
        u, c = site_contact(sipd, uac, "127.0.0.3")
        check("maddr=127.0.0.1" in c and "transport=tcp" in c,
              "127.0.0.3 got Contact %r" % c)
        check("maddr=127.0.0.3" in u, "127.0.0.3 got %r" % u)

        ctl(sipd, "workaround", "product", "remove", "Acme Phone*")
        c, rr = contact_and_rr(sipd, uac, acme, "acme")
        check("transport=tcp" in c and "maddr=127.0.0.1" in c,
              "after remove acme got Contact %r" % c)
    finally:
        for ua in (uac, acme, plain):
            ua.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
