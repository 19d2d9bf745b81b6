"""What the fault tests check while a fault goes on: that sipd still
carries a call (call()), and counters read back (stats()).  Bounded in
count and time like everything in tests/lib."""

import json

import sipdtest
import sipua
from sipdtest import check


def call(sipd, uac=None, uas=None):
    """A whole call through sipd over UDP: INVITE, 180, 200, ACK, BYE,
    200, each as the peers received it (sipd with force-rr on, so that
    the BYE passes it).  Fails when any step does not arrive."""
    own = uac is None
    uac = uac or sipua.UA()
    uas = uas or sipua.UA()
    try:
        c = sipua.Call(uac, uas.uri("uas"))
        uac.send(c.request("INVITE"), sipd.port)
        inv = uas.expect_request("INVITE", c.call_id)
        uas.respond(inv, 180, to_tag="t" + c.from_tag)
        uac.expect_response(180, c)
        uas.respond(inv, 200, to_tag="t" + c.from_tag)
        ok = uac.expect_response(200, c)
        uac.send(c.ack(ok), sipd.port)
        uas.expect_request("ACK", c.call_id)
        routes = list(reversed(ok.get("Record-Route")))
        uac.send(c.request("BYE", uri=ok.first("Contact").strip("<>"),
                           to=ok.first("To"),
                           extra=[("Route", r) for r in routes]), sipd.port)
        bye = uas.expect_request("BYE", c.call_id)
        uas.respond(bye, 200)
        uac.expect_response(200, c, method="BYE")
    finally:
        if own:
            uac.close()
            uas.close()


def stats(sipd):
    """show stats as a dict."""
    p = sipdtest.sipctl(sipd, "-j", "show", "stats")
    check(p.returncode == 0, "show stats: %r" % p.stderr)
    return json.loads(p.stdout)["data"]
