"""Bad input to the registrar: each answered 400 or 401, nothing stored,
sipd still answering.

- Authorization headers answering a real challenge but malformed:
  fields missing, bad quoting, a 10 kB value, an algorithm not offered,
  another scheme, garbage.  A 10 kB value makes a line over "limits
  line": that datagram is dropped with a log line, as every oversized
  message is.
- Correctly authenticated REGISTERs with a bad Contact (no closing >,
  not a URI, "*" with an Expires other than 0, "*" with other contacts,
  a bad ;expires=) or a bad Expires (not a number, negative, over
  2**32-1; the last may also be shortened to reg-max-expires).
"""

import sipdtest
import sipreg
from sipdtest import check, request
from sipua import UA

CONF = """domain add example.com
set auth-sha256 on
account add alice@example.com password secret
set auth-fail-limit 0
"""


def fresh(reg):
    """A challenge for reg's next REGISTER: (SHA-256 params, MD5)."""
    r = reg.challenge([reg.contact()], 300)
    check(r.status == 401, "REGISTER without credentials: %d" % r.status)
    return sipreg.pick(r, "SHA-256"), sipreg.pick(r, "MD5")


def bad_auth(sipd, reg):
    sha, md5 = fresh(reg)
    good = sipreg.credentials(sha, "alice", "secret", "REGISTER", reg.uri,
                              "SHA-256")
    cases = {
        "no response": good.split(", response=")[0] + ', algorithm=SHA-256'
        ', qop=auth, nc=00000001, cnonce="abc"',
        "no nonce": good.replace('nonce="%s", ' % sha["nonce"], ""),
        "no username": good.replace('username="alice", ', ""),
        "unterminated quote": good.replace('username="alice"',
                                           'username="alice'),
        "quote in the middle": good.replace('realm="example.com"',
                                            'realm="exa"mple.com"'),
        "10 kB username": good.replace('username="alice"',
                                       'username="%s"' % ("a" * 10240)),
        "10 kB nonce": good.replace(sha["nonce"], "n" * 10240),
        "algorithm SHA-512": good.replace("algorithm=SHA-256",
                                          "algorithm=SHA-512"),
        "algorithm of the other challenge": good.replace(
            "algorithm=SHA-256", "algorithm=MD5"),
        "qop auth-int": good.replace("qop=auth", "qop=auth-int"),
        "nc not hex": good.replace("nc=00000001", "nc=zz"),
        "Basic": "Basic YWxpY2U6c2VjcmV0",
        "garbage": "Digest ,,,=,=\"\",,=",
        "empty": "",
        "Digest alone": "Digest",
    }
    for what, value in cases.items():
        data = reg.message([reg.contact()], 300, value)
        if "10 kB" in what:
            # over "limits line": dropped with a log line, as every
            # oversized message is (basic/garbage)
            reg.ua.send(data, reg.port)
            r = reg.ua.recv(1.0)
            if r is None:
                check(sipd.wait_log("dropped datagram from 127.0.0.1:%d "
                                    "(Line Too Long)" % reg.ua.port),
                      "Authorization with %s: no answer, no log line" %
                      what)
                continue
        else:
            r = reg.ask(data)
        check(r.status in (400, 401), "Authorization with %s: %d %s, not "
              "400 or 401" % (what, r.status, r.reason))


def bad_register(reg):
    c = "sip:alice@127.0.0.1:%d" % reg.ua.port
    cases = [
        ("Contact without >", ["<%s" % c], 300),
        ("Contact not a URI", ["not a uri at all"], 300),
        ("* with Expires 300", ["*"], 300),
        ("* and a contact", ["*", "<%s>" % c], 0),
        ("bad ;expires=", ["<%s>;expires=xyz" % c], None),
        ("Expires not a number", ["<%s>" % c], "abc"),
        ("Expires negative", ["<%s>" % c], "-5"),
    ]
    for what, contacts, expires in cases:
        r = reg.register(contacts, expires)
        check(r.status in (400, 401), "REGISTER with %s: %d %s, not 400" % (
            what, r.status, r.reason))
    # out of RFC 3261 20.19's range (0 to 2**32-1): a 400, or taken as
    # the largest value and shortened to reg-max-expires (86400)
    r = reg.register(["<%s>" % c], "99999999999999999999")
    check(r.status == 400 or (r.status == 200 and
                              sipreg.expires_of(r).get(c) == 86400),
          "REGISTER with Expires 99999999999999999999: %d %s, Contact %s" %
          (r.status, r.reason, r.get("Contact")))
    if r.status == 200:
        r = reg.register(["<%s>" % c], 0)
        check(r.status == 200 and not r.get("Contact"),
              "removing it: %d, Contact %s" % (r.status, r.get("Contact")))


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF)
    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "alice", "secret")
        bad_auth(sipd, reg)
        bad_register(reg)
    finally:
        ua.close()
    rows = sipreg.registrations(sipd)
    check(rows == [], "bindings stored after bad input: %s" % rows)
    peer = UA()
    try:
        peer.send(request("OPTIONS", sipd.port), sipd.port)
        r = peer.recv(2)
        check(r is not None and r.status == 200,
              "sipd does not answer OPTIONS after bad input: %r" % r)
    finally:
        peer.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
