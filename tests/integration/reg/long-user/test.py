"""A REGISTER whose To names a user no account can have: longer than any
user name (65 and 200 characters; a bad escape is refused by the
parser before, 400 Bad From).

- To at the local domain example.com: challenged (401) with realm
  "example.com", the domain's realm as for any unknown user; answering
  the challenge gets 401 again (the credentials' user is unknown), or
  400 when the user name is longer than credentials may carry (200
  characters); never a 200, a 500 or silence.
- To at a domain that is not local (elsewhere.example), the
  Request-URI example.com: 404, as for any To outside the local
  domains (RFC 3261 10.3 step 1 and 5: sipd keeps no bindings for it).
  Before, such a To was taken for an unknown user of a local domain and
  challenged, with a realm read from whatever the stack held.

Nothing is stored, and sipd still answers OPTIONS afterwards."""

import sipdtest
import sipreg
from sipdtest import check, request
from sipua import UA

CONF = """domain add example.com
account add alice@example.com password secret
set auth-fail-limit 0
set reg-durable off
"""

USERS = ("a" * 65, "b" * 200)


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF, store=False)
    ua = UA()
    try:
        for user in USERS:
            reg = sipreg.RegClient(ua, sipd.port, user, "secret")
            r = reg.challenge([reg.contact()], 300)
            check(r.status == 401, "To %s@example.com: %d %s, not 401" % (
                user[:20], r.status, r.reason))
            ch = sipreg.pick(r, "MD5")
            check(ch is not None and ch.get("realm") == "example.com",
                  "To %s@example.com: challenge %s, not realm example.com"
                  % (user[:20], r.get("WWW-Authenticate")))
            r = reg.register([reg.contact()], 300)
            want = 400 if len(user) > 128 else 401
            check(r.status == want, "To %s@example.com, answered: %d %s, "
                  "not %d" % (user[:20], r.status, r.reason, want))
            to = "<sip:%s@elsewhere.example>" % user
            r = reg.challenge([reg.contact()], 300, to=to)
            check(r.status == 404, "To %s@elsewhere.example: %d %s, not "
                  "404" % (user[:20], r.status, r.reason))
    finally:
        ua.close()
    rows = sipreg.registrations(sipd)
    check(rows == [], "bindings stored: %s" % rows)
    peer = UA()
    try:
        peer.send(request("OPTIONS", sipd.port), sipd.port)
        r = peer.recv(2)
        check(r is not None and r.status == 200,
              "sipd does not answer OPTIONS afterwards: %r" % r)
    finally:
        peer.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
