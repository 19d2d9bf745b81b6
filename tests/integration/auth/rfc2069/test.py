"""Digests without qop (RFC 2069) carry no nonce count, so nothing tells
a replay from the original: sipd accepts them only with the
compatibility setting auth-rfc2069 on (sipd.conf(5)), off by default.

For each configuration a REGISTER answers the 401's MD5 challenge with
an RFC 2069 response (no qop, nc or cnonce), then the same Authorization
is sent again with a new Call-ID (a replay):
- the default: 401 both times (refused like a wrong password);
- auth-advertise-digest off (which once turned qop off and with it the
  replay protection): the challenge still offers Digest with
  qop="auth", and the RFC 2069 answer gets 401 both times;
- auth-rfc2069 on: 200, and the replay 200 too (the documented cost);
  the challenge still offers qop="auth", and a qop=auth answer replayed
  gets 401.
Loopback is not a client here (client-ip none)."""

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA

CONF = """domain add example.com
account add alice@example.com password secret
"""


def rfc2069_auth(ch, uri):
    """An RFC 2069 answer to challenge ch: response = KD(HA1,
    nonce:HA2), no qop, nc or cnonce."""
    resp = sipreg.digest_response("MD5", "alice", ch["realm"], "secret",
                                  "REGISTER", uri, ch["nonce"], qop=None)
    return ('Digest username="alice", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=MD5' % (ch["realm"], ch["nonce"],
                                              uri, resp))


def attempt(sipd, auth_of):
    """(status of the answer, status of its replay, the challenge)."""
    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "alice", "secret")
        first = reg.challenge([reg.contact()], 300)
        check(first.status == 401, "REGISTER without credentials: %d" %
              first.status)
        check("MD5" in sipreg.challenge_algs(first),
              "no MD5 challenge: %s" % first.get("WWW-Authenticate"))
        ch = sipreg.pick(first, "MD5")
        check(ch.get("qop") == "auth", "challenge without qop=\"auth\": "
              "%s" % first.get("WWW-Authenticate"))
        auth = auth_of(ch, reg.uri)
        one = reg.ask(reg.message([reg.contact()], 300, auth)).status
        reg.call_id = "%s@replay" % sipdtest.new_tag()
        reg.cseq = 0
        two = reg.ask(reg.message([reg.contact()], 300, auth)).status
        return one, two
    finally:
        ua.close()


def qop_auth(ch, uri):
    return sipreg.credentials(ch, "alice", "secret", "REGISTER", uri, "MD5")


def test(binary, started):
    for extra, want in (("", (401, 401)),
                        ("set auth-advertise-digest off", (401, 401)),
                        ("set auth-rfc2069 on", (200, 200))):
        sipd = sipreg.start(binary, started, conf=CONF + extra,
                            client_ip=[])
        got = attempt(sipd, rfc2069_auth)
        check(got == want, "%s: an RFC 2069 digest and its replay got %s, "
              "not %s" % (extra or "default", got, want))
        got = attempt(sipd, qop_auth)
        check(got == (200, 401), "%s: a qop=auth digest and its replay "
              "got %s, not (200, 401)" % (extra or "default", got))
        check(sipd.alive(), "sipd died")
        sipdtest.stop_clean(sipd)


sipdtest.run(test)
