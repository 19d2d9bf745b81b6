"""One nonce-count and one failed-attempt state for the whole server,
whatever the worker (sipd.conf(5), auth-fail-limit), with 1, 2 and 4
workers (set processors).

sipd spreads requests over its workers by Call-ID, which the peer
chooses.  A REGISTER authenticated with qop=auth (nonce count 1) is
captured and sent again eight times with new Call-IDs, picked so that
every worker gets some, and a Contact of the attacker's: the original
gets 200, and every copy 401 (RFC 7616 3.3: a nonce count not above the
last one seen is a replay).  Exactly one 200, and the binding stays the
original one.  (With a table per worker the copies that reach another
worker were taken, 200, and the attacker's Contact bound.)

Then the failed-attempt limit: with auth-fail-limit 4, four wrong
passwords whose Call-IDs land on different workers get 401 each; the
next attempt, with the right password and a nonce fetched before, gets
403 (the source is blocked), and show auth-blocks lists the source with
its four failures.  (With a table per worker, each worker had seen one
or two failures, and the right password got 200.)

Loopback is not a client here (client-ip none)."""

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA

CONF = """domain add example.com
account add alice@example.com password secret
"""
REPLAYS = 8


def replay_copy(raw, call_id, contact):
    """raw (an authenticated REGISTER) with another Call-ID, branch, From
    tag and Contact: what an eavesdropper sends."""
    text = raw.decode()
    head, _, _ = text.partition("\r\n\r\n")
    out = []
    for line in head.split("\r\n"):
        name = line.split(":", 1)[0].lower()
        if name == "call-id":
            line = "Call-ID: " + call_id
        elif name == "via":
            line = line.split(";branch=")[0] + ";branch=z9hG4bK%s%s" % (
                sipdtest.new_tag(), sipdtest.new_tag())
        elif name == "from":
            line = line.split(";tag=")[0] + ";tag=" + sipdtest.new_tag()
        elif name == "contact":
            line = "Contact: " + contact
        out.append(line)
    return ("\r\n".join(out) + "\r\n\r\n").encode()


def final(ua, call_id, what, timeout=3.0):
    return ua.expect(what, lambda m: not m.is_request() and
                     m.status >= 200 and m.call_id() == call_id, timeout)


def replay(sipd, workers):
    ua = UA()
    try:
        reg = sipreg.RegClient(ua, sipd.port, "alice", "secret")
        first = reg.challenge([reg.contact()], 300)
        check(first.status == 401, "REGISTER without credentials: %d" %
              first.status)
        ch = sipreg.pick(first, "MD5")
        auth = sipreg.credentials(ch, "alice", "secret", "REGISTER",
                                  reg.uri, "MD5")
        check(", nc=00000001" in auth, "no nonce count: %s" % auth)
        raw = reg.message([reg.contact()], 300, auth)
        ok = reg.ask(raw)
        check(ok.status == 200, "the authenticated REGISTER got %d %s" % (
            ok.status, ok.reason))
        mine = "sip:alice@127.0.0.1:%d" % ua.port
        evil = "<sip:mallory@127.0.0.1:9>"
        got = {}
        for i in range(REPLAYS):
            shard = i % workers
            cid = sipreg.call_id_on(shard, workers, "replay%d" % i)
            ua.send(replay_copy(raw, cid, evil), sipd.port)
            resp = final(ua, cid, "the answer to replay %d" % i)
            got.setdefault(resp.status, []).append(shard)
        check(list(got) == [401],
              "%d workers: replays of one Authorization got %s (status: "
              "workers), not 401 every time" % (workers, got))
        contacts = sipreg.contacts_of(sipd, "alice@example.com")
        check(contacts == [mine], "%d workers: alice's bindings after the "
              "replays: %s, not %s" % (workers, contacts, mine))
    finally:
        ua.close()


def fail_limit(sipd, workers):
    sipreg.ctl(sipd, "auth", "unblock")
    sipreg.ctl(sipd, "set", "auth-fail-limit", "4")
    ua = UA()
    try:
        good = sipreg.RegClient(ua, sipd.port, "alice", "secret")
        kept = sipreg.pick(good.challenge([good.contact()], 300), "MD5")
        for i in range(4):
            cid = sipreg.call_id_on(i % workers, workers, "bad%d" % i)
            bad = sipreg.RegClient(ua, sipd.port, "alice", "wrong")
            bad.call_id = cid
            resp = bad.register([bad.contact()], 300, alg="MD5")
            check(resp.status == 401, "%d workers: wrong password %d "
                  "(worker %d) got %d, not 401" % (
                      workers, i + 1, i % workers, resp.status))
        auth = sipreg.credentials(kept, "alice", "secret", "REGISTER",
                                  good.uri, "MD5")
        resp = good.ask(good.message([good.contact()], 300, auth))
        check(resp.status == 403, "%d workers: after 4 failures (limit 4) "
              "the right password got %d %s, not 403" % (
                  workers, resp.status, resp.reason))
        blocks = sipreg.ctl(sipd, "show", "auth-blocks")
        check([(b["address"], b["failures"]) for b in blocks] ==
              [("127.0.0.1", 4)],
              "%d workers: show auth-blocks: %s" % (workers, blocks))
    finally:
        ua.close()


def test(binary, started):
    for workers in (1, 2, 4):
        sipd = sipreg.start(binary, started, conf=CONF, client_ip=[],
                            workers=workers)
        replay(sipd, workers)
        fail_limit(sipd, workers)
        check(sipd.alive(), "sipd died")
        sipdtest.stop_clean(sipd)


sipdtest.run(test)
