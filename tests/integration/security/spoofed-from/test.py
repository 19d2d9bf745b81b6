"""A From in a local domain is a claim only an account can back ("set
auth-local-from", sipd.conf(5)).

sipd with the loopback not trusted (Client IP 127.0.0.5/32 only); the
domain example.com, aliased as example.net; alice registered from
127.0.0.4.  What each request to sip:alice@example.com gets:
- from the stranger 127.0.0.3 with From alice@example.com, bob@example.com,
  BOB@EXAMPLE.COM's domain in upper case, or bob@example.net (the alias):
  407 for INVITE, MESSAGE and OPTIONS, and alice's device receives
  nothing (sipd 0.1.0 passed them all to alice unauthenticated);
- the same in the strict-router form (Request-URI sipd's address, Route
  <sip:alice@example.com>): 407;
- the same with alice's credentials: relayed; with bob's credentials and
  From alice: 403;
- from the stranger with a foreign From (sip:x@elsewhere.test): relayed,
  as any call to a local user;
- from the client 127.0.0.5 with From alice: relayed, no challenge;
- after "set auth-local-from off": the stranger's From alice is relayed,
  and "show settings" says auth-local-from false.
Each challenge is logged in sipd.8's form: "SIPS, policy, challenged
local src=127.0.0.3:PORT dst=- (from a local domain, sender not
authenticated)".
"""

import select
import time

import sipdtest
import sipreg
from sipdtest import check, new_tag
from sipua import UA

CONF = """domain add example.com
domain alias add example.com example.net
account add alice@example.com password secret
account add bob@example.com password b0b-pw
"""
TARGET = "sip:alice@example.com"


def request(ua, method, from_uri, extra=()):
    call_id = "%s@spoof" % new_tag()
    hdrs = [("Via", ua.via("z9hG4bK%s%s" % (new_tag(), new_tag()))),
            ("Max-Forwards", "70"),
            ("From", "<%s>;tag=%s" % (from_uri, new_tag())),
            ("To", "<%s>" % TARGET), ("Call-ID", call_id),
            ("CSeq", "1 %s" % method)]
    if method == "INVITE":
        hdrs.append(("Contact", "<%s>" % ua.uri("uac")))
    hdrs += list(extra)
    hdrs.append(("Content-Length", "0"))
    text = "%s %s SIP/2.0\r\n" % (method, TARGET)
    text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
    return call_id, text.encode()


def attempt(sipd, ua, dest, method, from_uri, extra=(), timeout=2.0):
    """("relayed", req) when dest got it (answers 486 or 200), else
    ("answered", final response) or ("nothing", None)."""
    call_id, data = request(ua, method, from_uri, extra)
    ua.send(data, sipd.port)
    socks = {ua.sock: ua, dest.sock: dest}
    deadline = time.monotonic() + timeout
    for _ in range(200):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(list(socks), [], [], left)
        for s in ready:
            m = socks[s].recv(0.01)
            if m is None or m.call_id() != call_id:
                continue
            if socks[s] is dest and m.is_request():
                dest.respond(m, 486 if method == "INVITE" else 200)
                return "relayed", m
            if socks[s] is ua and not m.is_request() and m.status >= 200:
                return "answered", m
    return "nothing", None


def expect(sipd, ua, dest, method, from_uri, want, what, extra=()):
    how, m = attempt(sipd, ua, dest, method, from_uri, extra)
    got = how if how != "answered" else m.status
    check(got == want, "%s %s From %s: %s %s, not %s" % (
        what, method, from_uri, how, m.start if m else "", want))
    return m


def creds(resp, user, password, method):
    ch = sipreg.pick(resp, "MD5", "Proxy-Authenticate")
    return [("Proxy-Authorization", sipreg.credentials(
        ch, user, password, method, TARGET, "MD5"))]


def test(binary, started):
    sipd = sipreg.start(binary, started, client_ip=["127.0.0.5/32"],
                        conf=CONF)
    stranger, client, alice = UA("127.0.0.3"), UA("127.0.0.5"), \
        UA("127.0.0.4")
    try:
        reg = sipreg.RegClient(alice, sipd.port, "alice", "secret")
        r = reg.register([reg.contact()], 300)
        check(r.status == 200, "REGISTER of alice: %d" % r.status)

        for method in ("INVITE", "MESSAGE", "OPTIONS"):
            for f in ("sip:alice@example.com", "sip:bob@example.com",
                      "sip:bob@EXAMPLE.COM", "sip:bob@example.net"):
                expect(sipd, stranger, alice, method, f, 407, "stranger")
            expect(sipd, stranger, alice, method, "sip:x@elsewhere.test",
                   "relayed", "stranger")
            expect(sipd, client, alice, method, "sip:alice@example.com",
                   "relayed", "client")
        # the strict-router form (Request-URI sipd, the target in the
        # Route) ends at a local account all the same
        for method in ("INVITE", "MESSAGE"):
            call_id, data = request(stranger, method, "sip:alice@example.com",
                                    extra=[("Route", "<%s>" % TARGET)])
            data = data.replace(("%s %s SIP/2.0" % (method, TARGET)).encode(),
                                ("%s sip:127.0.0.1:%d SIP/2.0" % (
                                    method, sipd.port)).encode(), 1)
            stranger.send(data, sipd.port)
            m = stranger.expect("final response to %s" % method,
                                lambda m: not m.is_request() and
                                m.call_id() == call_id and m.status >= 200)
            check(m.status == 407, "strict-route %s From alice: %s" % (
                method, m.start))
        stray = [x.start for x in alice.collect(0.3) if x.is_request()]
        check(not stray, "alice's device received %s" % stray)

        # sipd.8's fixed form of the policy's line
        line = ("SIPS, policy, challenged local src=127.0.0.3:%d dst=- "
                "(from a local domain, sender not authenticated)" %
                stranger.port)
        check(sipd.wait_log(line), "no log line %r" % line)

        # credentials: the From's own account passes, another's does not
        ch = expect(sipd, stranger, alice, "INVITE", "sip:alice@example.com",
                    407, "stranger")
        expect(sipd, stranger, alice, "INVITE", "sip:alice@example.com",
               "relayed", "alice's credentials,",
               creds(ch, "alice", "secret", "INVITE"))
        ch = expect(sipd, stranger, alice, "INVITE", "sip:alice@example.com",
                    407, "stranger")
        expect(sipd, stranger, alice, "INVITE", "sip:alice@example.com",
               403, "bob's credentials,",
               creds(ch, "bob", "b0b-pw", "INVITE"))
        check("from names another account" in sipd.log(),
              "no log line for bob's credentials with alice's From")

        # the setting
        sipreg.ctl(sipd, "set", "auth-local-from", "off")
        settings = {r["setting"]: r["value"]
                    for r in sipreg.ctl(sipd, "show", "settings")}
        check(settings.get("auth-local-from") is False,
              "show settings: auth-local-from %r" %
              settings.get("auth-local-from"))
        expect(sipd, stranger, alice, "INVITE", "sip:alice@example.com",
               "relayed", "auth-local-from off,")
        sipreg.ctl(sipd, "set", "auth-local-from", "on")
        expect(sipd, stranger, alice, "INVITE", "sip:alice@example.com",
               407, "auth-local-from on again,")
    finally:
        for u in (stranger, client, alice):
            u.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
