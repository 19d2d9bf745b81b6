"""`set main-domain` (sipd.conf.5, Router), checked on the UAs' sockets.
Domains a.test (the first in name order) and b.test (alias bee.test),
the account alice@b.test registered from 127.0.0.2, the record
`Signal:<help> = alice`, 127.0.0.5 the only client-ip:

- by default the main domain is a.test: a MESSAGE from the client to
  help@b.test is not routed by `<help>` (404, nothing reaches alice), and
  a stranger's MESSAGE to a foreign domain is challenged (407) in realm
  a.test;
- `set main-domain bee.test` (an alias: its domain b.test): help@b.test
  reaches alice's device, `router test help@b.test` names the record and
  alice@b.test, and the stranger's challenge is in realm b.test;
- `set main-domain nowhere.test` (no local domain): a.test again;
- `set main-domain default`: a.test; a bad name is refused.
Without the setting sipd refuses `set main-domain`."""

import json
import re

import sipdtest
import sipreg
import sipua
from sipdtest import check


CONF = """domain add a.test
domain add b.test
domain alias add b.test bee.test
account add alice@b.test password alice-pw
router add Signal:<help> = alice
"""


def final(ua, call):
    return ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def set_main(sipd, value, ok=True):
    p = sipdtest.sipctl(sipd, "set", "main-domain", value)
    check((p.returncode == 0) == ok, "set main-domain %s: %d %s" % (
        value, p.returncode, p.stderr))


def help_reaches(sipd, client, alice, yes):
    call = sipua.Call(client, "sip:help@b.test")
    client.send(call.request("MESSAGE"), sipd.port)
    if yes:
        msg = alice.expect_request("MESSAGE", call.call_id)
        check(msg.uri == alice.uri("alice"), "help@b.test reached alice "
              "as %s" % msg.uri)
        alice.respond(msg, 200)
        client.expect_response(200, call)
        return
    resp = final(client, call)
    check(resp.status == 404, "help@b.test got %d, not 404" % resp.status)
    stray = [m for m in alice.collect(0.3) if m.is_request()]
    check(stray == [], "help@b.test reached alice: %s" % stray)


def challenge_realm(sipd, stranger):
    call = sipua.Call(stranger, "sip:bob@192.0.2.1")
    stranger.send(call.request("MESSAGE"), sipd.port)
    resp = final(stranger, call)
    check(resp.status == 407, "the stranger's MESSAGE got %d, not 407" %
          resp.status)
    m = re.search(r'realm="([^"]*)"', resp.first("Proxy-Authenticate"))
    return m.group(1) if m else None


def test(binary, started):
    client, alice = sipua.UA("127.0.0.5"), sipua.UA("127.0.0.2")
    stranger = sipua.UA()
    try:
        sipd = sipreg.start(binary, started, conf=CONF,
                            client_ip=["127.0.0.5/32"])
        r = sipua.register(alice, sipd.port, "alice", "b.test", "alice-pw")
        check(r.status == 200, "alice's REGISTER got %d" % r.status)

        help_reaches(sipd, client, alice, False)
        realm = challenge_realm(sipd, stranger)
        check(realm == "a.test", "the default realm is %s" % realm)

        set_main(sipd, "bee.test")
        help_reaches(sipd, client, alice, True)
        p = sipdtest.sipctl(sipd, "-j", "router", "test", "help@b.test",
                            "from-client")
        text = json.dumps(json.loads(p.stdout)["data"])
        check("alice@b.test" in text and "<help>" in text,
              "router test help@b.test: %s" % text)
        realm = challenge_realm(sipd, stranger)
        check(realm == "b.test", "with main-domain bee.test the realm is "
              "%s" % realm)

        set_main(sipd, "nowhere.test")
        help_reaches(sipd, client, alice, False)
        set_main(sipd, "default")
        help_reaches(sipd, client, alice, False)
        realm = challenge_realm(sipd, stranger)
        check(realm == "a.test", "back to default, the realm is %s" % realm)
        for bad in ("bad!name", "a..test", "-x.test"):
            set_main(sipd, bad, ok=False)
    finally:
        for ua in (client, alice, stranger):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
