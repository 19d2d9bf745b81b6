"""Calls from a gateway to the Contact sipd registered with it (RFC 3261
10): two sipp registrars on 127.0.0.2 stand in for the providers; A
registers the contact alice (an account of the main domain), B the
contact bob@other.test (another local domain: the Contact's user part is
bob%25other.test).  alice and bob each register a device (Python UAs).

- An INVITE from the provider's address (127.0.0.2) to A's registered
  Contact reaches alice's device, the caller gets its 200;
- one to B's Contact reaches bob's device;
- the same INVITE to B's Contact from 127.0.0.3, an address the gateway
  was never reached at, does not reach bob's device: the Contact names
  the account only for the gateway.
The old sipd knows no gateways: the configuration does not load."""

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


def contact_uri(prov):
    """The Contact URI of the last REGISTER the provider received."""
    regs = prov.received("REGISTER")
    check(regs, "no REGISTER reached the provider")
    return regs[-1].first("Contact").strip("<>")


def call(ua, sipd, uri, device, want):
    c = sipua.Call(ua, uri)
    ua.send(c.request("INVITE"), sipd.port)
    if want:
        inv = device.expect_request("INVITE", c.call_id, 5.0)
        device.respond(inv, 200, to_tag=sipdtest.new_tag(),
                       extra=[("Contact", "<%s>" % device.uri("dev"))])
        r = ua.expect_response(200, c, "INVITE", 5.0)
        ua.send(c.ack(r), sipd.port)
        return
    r = ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == c.call_id), 5.0)
    ua.send(c.ack(r), sipd.port)
    stray = [m for m in device.collect(0.5)
             if m.is_request() and m.call_id() == c.call_id]
    check(stray == [], "a stranger reached the device through the "
          "gateway's Contact (%d)" % r.status)


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-inbound-")
    sets = (("gwuser", "gw"), ("gwpass", "pw"), ("expires", 60))
    pa = gwlib.Provider(work.name, "provA", "registrar.xml", 5, sets=sets)
    pb = gwlib.Provider(work.name, "provB", "registrar.xml", 5, sets=sets)
    gwcall = sipua.UA("127.0.0.2")
    stranger = sipua.UA("127.0.0.3")
    alice = sipua.UA("127.0.0.1")
    bob = sipua.UA("127.0.0.1")
    try:
        sipd = sipdtest.Sipd(binary, conf=(
            "domain add example.com\n"
            "domain add other.test\n"
            "account add alice@example.com password alice-pw\n"
            "account add bob@other.test password bob-pw\n"
            "gateway add A domain a.test via 127.0.0.2:%d username gw "
            "password pw register-every 60 contact alice\n"
            "gateway add B domain b.test via 127.0.0.2:%d username gw "
            "password pw register-every 60 contact bob@other.test\n"
            % (pa.port, pb.port)))
        started.append(sipd)
        sipd.start()
        for ua, user, dom, pw in ((alice, "alice", "example.com",
                                   "alice-pw"),
                                  (bob, "bob", "other.test", "bob-pw")):
            r = sipua.register(ua, sipd.port, user, dom, pw)
            check(r.status == 200, "%s registered: %d" % (user, r.status))
        gwlib.wait_state(sipd, "A", ("registered",), 5)
        gwlib.wait_state(sipd, "B", ("registered",), 5)
        ca, cb = contact_uri(pa), contact_uri(pb)
        check(ca == "sip:alice@127.0.0.1:%d" % sipd.port, "A's Contact %s"
              % ca)
        check(cb == "sip:bob%%25other.test@127.0.0.1:%d" % sipd.port,
              "B's Contact %s" % cb)

        call(gwcall, sipd, ca, alice, True)
        call(gwcall, sipd, cb, bob, True)
        call(stranger, sipd, cb, bob, False)
        time.sleep(0.2)
        sipdtest.stop_clean(sipd)
    finally:
        for p in (pa, pb):
            p.stop()
        for u in (gwcall, stranger, alice, bob):
            u.close()


sipdtest.run(test)
