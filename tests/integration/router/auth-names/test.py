"""The Router in the addresses sipd authenticates (sipd.conf.5, Router;
the seed: aliases work in authentication names), checked on the UAs'
sockets.  Accounts alice and bob in example.com, records
`Signal:<help> = alice` and `oldco.com = example.com`, 127.0.0.5 the only
client-ip:

- alice's device REGISTERs To help@example.com, authenticating as alice:
  200, and the binding is alice@example.com's (show registrations);
- the same To alice@oldco.com (Request-URI sip:example.com): 200,
  alice@example.com's again, the challenge in realm example.com;
- bob REGISTERing To help@example.com, authenticating as bob: 403 (help
  is alice), and no binding of bob's;
- a stranger's MESSAGE From help@example.com to a UAS at 127.0.0.3,
  answered with alice's credentials, reaches the UAS; with bob's it gets
  403 (the From names another account).
Before, help@example.com and alice@oldco.com were no account's: the
REGISTERs got 404 and alice's MESSAGE 403."""

import re

import sipdtest
import sipreg
import sipua
from sipdtest import check


CONF = """domain add example.com
account add alice@example.com password alice-pw
account add bob@example.com password bob-pw
router add Signal:<help> = alice
router add oldco.com = example.com
"""


def final(ua, call):
    return ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def register(sipd, ua, to, user, password):
    """REGISTER ua as a contact of `to` (user@domain), authenticating as
    user; the final answer and the 401's realm."""
    local, domain = to.split("@")
    rc = sipreg.RegClient(ua, sipd.port, local, password, domain=domain,
                          auth_user=user)
    rc.uri = "sip:example.com"  # the registrar: sipd's domain
    first = rc.challenge([rc.contact()], 300)
    if first.status != 401:
        return first, None
    realm = re.search(r'realm="([^"]*)"', first.first("WWW-Authenticate"))
    return rc.register([rc.contact()], 300), realm.group(1)


def message(sipd, ua, uas, user, password):
    call = sipua.Call(ua, "sip:x@127.0.0.3:%d" % uas.port)
    frm = "From: <sip:help@example.com>;tag=%s" % call.from_tag
    data = call.request("MESSAGE")
    data = re.sub(rb"From: [^\r]*", frm.encode(), data, count=1)
    ua.send(data, sipd.port)
    resp = final(ua, call)
    check(resp.status == 407, "the stranger's MESSAGE got %d, not 407" %
          resp.status)
    auth = sipua.digest_authorization(resp.first("Proxy-Authenticate"),
                                      user, password, "MESSAGE", call.uri)
    data = call.request("MESSAGE", extra=[("Proxy-Authorization", auth)])
    data = re.sub(rb"From: [^\r]*", frm.encode(), data, count=1)
    ua.send(data, sipd.port)
    return call


def test(binary, started):
    alice, bobs = sipua.UA("127.0.0.2"), sipua.UA("127.0.0.4")
    stranger, uas = sipua.UA(), sipua.UA("127.0.0.3")
    try:
        sipd = sipreg.start(binary, started, conf=CONF,
                            client_ip=["127.0.0.5/32"])
        for to in ("help@example.com", "alice@oldco.com"):
            r, realm = register(sipd, alice, to, "alice", "alice-pw")
            check(r.status == 200, "REGISTER To %s as alice got %d" % (
                to, r.status))
            check(realm == "example.com", "REGISTER To %s was challenged "
                  "in realm %s" % (to, realm))
        regs = sipreg.registrations(sipd)
        aors = sorted(set(x["aor"] for x in regs))
        check(aors == ["alice@example.com"], "registrations: %s" % regs)

        r, _ = register(sipd, bobs, "help@example.com", "bob", "bob-pw")
        check(r.status == 403, "bob REGISTERing help@example.com got %d, "
              "not 403" % r.status)
        regs = sipreg.registrations(sipd)
        check(all(x["aor"] == "alice@example.com" for x in regs),
              "bob got a binding: %s" % regs)

        call = message(sipd, stranger, uas, "alice", "alice-pw")
        msg = uas.expect_request("MESSAGE", call.call_id)
        uas.respond(msg, 200)
        stranger.expect_response(200, call)
        call = message(sipd, stranger, uas, "bob", "bob-pw")
        resp = final(stranger, call)
        check(resp.status == 403, "From help@ with bob's credentials got "
              "%d, not 403" % resp.status)
        stray = [m for m in uas.collect(0.3) if m.is_request()]
        check(stray == [], "bob's MESSAGE reached the UAS: %s" % stray)
    finally:
        for ua in (alice, bobs, stranger, uas):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
