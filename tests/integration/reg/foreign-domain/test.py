"""Which REGISTERs the registrar takes (RFC 3261 10.3 step 1), when the
Request-URI is a domain alone with the same bytes as the To's host (the
usual REGISTER, whose domain is looked up once for both):

- Request-URI and To at 192.0.2.1, not a local domain: not the
  registrar's; proxied, and the relay policy (loopback is no client-ip
  here) challenges it, 407 for realm example.com, where the registrar
  would have refused it with 404.
- Request-URI and To at EXAMPLE.com, the local domain in other case
  (domains compare without case): the registrar's challenge, 401 with
  realm "example.com".
- Request-URI example.com, To at EXAMPLE.com (other bytes: each looked
  up on its own): the same 401."""

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA

CONF = """domain add example.com
account add alice@example.com password secret
set reg-durable off
"""


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF, store=False,
                        client_ip=[])
    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "alice", "secret",
                               domain="192.0.2.1")
        r = reg.challenge([reg.contact()], 300)
        check(r.status == 407, "REGISTER for 192.0.2.1: %d %s, not the "
              "relay policy's 407" % (r.status, r.reason))
        for ruri_domain, to in (("EXAMPLE.com", None),
                                ("example.com",
                                 "<sip:alice@EXAMPLE.com>")):
            reg = sipreg.RegClient(ua, sipd.port, "alice", "secret",
                                   domain=ruri_domain)
            r = reg.challenge([reg.contact()], 300, to=to)
            check(r.status == 401, "REGISTER sip:%s, To %s: %d %s, not "
                  "401" % (ruri_domain, to, r.status, r.reason))
            ch = sipreg.pick(r, "MD5")
            check(ch.get("realm") == "example.com",
                  "REGISTER sip:%s: realm %s" % (ruri_domain,
                                                 ch.get("realm")))
    finally:
        ua.close()
    check(sipreg.registrations(sipd) == [], "bindings stored")
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
