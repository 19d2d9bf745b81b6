"""Forwarders ("account forward"): never a crash, always the policy.

sipd with the loopback not trusted: the Client IP range is 127.0.0.5/32
only.  127.0.0.3 calls as a stranger, 127.0.0.5 as a client.  bob is
registered from 127.0.0.4; a UAS on 127.0.0.2 stands for a foreign host,
one on 127.0.0.6 for a client-ip host.  Accounts and their forwarders:

  alice -> sip:bob@example.com        (a local account)
  dave  -> sip:alice@example.com      (a chain: dave, alice, bob)
  carol -> sip:fwd@127.0.0.2:PORT     (foreign, not a client-ip)
  frank -> sip:fwd@127.0.0.6:PORT     (foreign, a client-ip)
  loop1 -> sip:loop2@example.com, loop2 -> sip:loop1@example.com
  erin  -> sip:x@SIPD:PORT            (sipd itself)

What each INVITE gets:
- carol from the client: 127.0.0.2 gets it (sipd 0.1.0 answered 500
  "cannot forward (Cannot allocate memory)" and, once the ACK ended the
  transaction, aborted with free(): invalid pointer);
- alice, dave from the stranger: bob's device gets the INVITE, its
  Request-URI bob's contact (sipd 0.1.0: 480, the forwarder's domain
  taken for a host);
- carol from the stranger under "relay to-non-clients clients": 407, and
  127.0.0.2 receives nothing; from
  the stranger with alice's credentials: 127.0.0.2 gets it; under
  "anybody": 127.0.0.2 gets it from the stranger too;
- frank from the stranger under "clients": 127.0.0.6 gets it; under
  "nobody": 407;
- loop1 from the client: 482 at once, nothing sent anywhere; from the
  stranger: 407 first (it learns nothing of the account), then 482 with
  credentials;
- erin from the client: 482, nothing sent.
sipd is still running 6 s after the first call, and stops with status 0.
"""

import time
import select

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA, Call

CLIENTS = ["127.0.0.5/32", "127.0.0.6/32"]


def invite(sipd, sender, uri, dests, extra=(), timeout=3.0):
    """INVITE from sender to uri through sipd.  ("relayed", ua, request)
    when one of dests got it (it answers 486), ("answered", None,
    response) for a final response to sender, or ("nothing", None,
    None)."""
    call = Call(sender, uri)
    sender.send(call.request("INVITE", extra=extra), sipd.port)
    socks = {sender.sock: sender}
    for d in dests:
        socks[d.sock] = d
    deadline = time.monotonic() + timeout
    for _ in range(200):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(list(socks), [], [], left)
        for s in ready:
            ua = socks[s]
            m = ua.recv(0.01)
            if m is None or m.call_id() != call.call_id:
                continue
            if ua is not sender and m.is_request() and m.method == "INVITE":
                ua.respond(m, 486)
                return "relayed", ua, m
            if ua is sender and not m.is_request() and m.status >= 200:
                sender.send(call.ack(m), sipd.port)
                return "answered", None, m
    return "nothing", None, None


def expect_relayed(sipd, sender, uri, dest, dests, what, extra=()):
    how, ua, m = invite(sipd, sender, uri, dests, extra)
    check(how == "relayed" and ua is dest,
          "%s: %s%s, not relayed to %s:%d" % (
              what, how, " to %s:%d" % (ua.host, ua.port) if ua else
              (" " + m.start if m else ""), dest.host, dest.port))
    return m


def expect_status(sipd, sender, uri, status, dests, what, extra=()):
    t0 = time.monotonic()
    how, ua, m = invite(sipd, sender, uri, dests, extra)
    check(how == "answered" and m.status == status,
          "%s: %s %s, not %d" % (what, how, m.start if m else
                                 (ua.host if ua else ""), status))
    check(time.monotonic() - t0 < 1.0, "%s: answered after %.2f s" % (
        what, time.monotonic() - t0))
    return m


def with_credentials(sipd, sender, uri, dests, challenge):
    ch = sipreg.pick(challenge, "MD5", "Proxy-Authenticate")
    auth = sipreg.credentials(ch, "alice", "secret", "INVITE", uri,
                              "MD5")
    return [("Proxy-Authorization", auth)]


def test(binary, started):
    stranger, client = UA("127.0.0.3"), UA("127.0.0.5")
    bob_ua, foreign, client_host = (UA("127.0.0.4"), UA("127.0.0.2"),
                                    UA("127.0.0.6"))
    uas = [stranger, client, bob_ua, foreign, client_host]
    dests = [bob_ua, foreign, client_host]
    conf = """domain add example.com
account add alice@example.com password secret
account add bob@example.com password b0b-pw
account add carol@example.com password c
account add dave@example.com password d
account add frank@example.com password f
account add erin@example.com password e
account add loop1@example.com password l1
account add loop2@example.com password l2
account forward alice@example.com sip:bob@example.com
account forward dave@example.com sip:alice@example.com
account forward carol@example.com sip:fwd@127.0.0.2:%d
account forward frank@example.com sip:fwd@127.0.0.6:%d
account forward loop1@example.com sip:loop2@example.com
account forward loop2@example.com sip:loop1@example.com
""" % (foreign.port, client_host.port)
    sipd = sipreg.RegSipd(binary, client_ip=CLIENTS)
    started.append(sipd)
    # sipd's port is drawn as the configuration is written
    sipd.more_conf = lambda s: conf + (
        "account forward erin@example.com sip:x@127.0.0.1:%d\n" % s.port)
    sipd.start()
    try:
        reg = sipreg.RegClient(bob_ua, sipd.port, "bob", "b0b-pw")
        r = reg.register([reg.contact()], 300)
        check(r.status == 200, "REGISTER of bob: %d" % r.status)
        first = time.monotonic()

        # sipd 0.1.0 answered this 500 ("cannot forward") and, once
        # the ACK ended the transaction, aborted freeing a wild pointer
        expect_relayed(sipd, client, "sip:carol@example.com", foreign,
                       dests, "carol from a client")

        # to a local account, and through a chain of two
        m = expect_relayed(sipd, stranger, "sip:alice@example.com", bob_ua,
                           dests, "alice (forwarded to bob)")
        check(m.uri == "sip:bob@127.0.0.4:%d" % bob_ua.port,
              "alice: Request-URI %s, not bob's contact" % m.uri)
        expect_relayed(sipd, stranger, "sip:dave@example.com", bob_ua,
                       dests, "dave (dave, alice, bob)")

        # to a foreign host: the relay policy decides
        ch = expect_status(sipd, stranger, "sip:carol@example.com", 407,
                           dests, "carol from a stranger")
        expect_relayed(sipd, client, "sip:carol@example.com", foreign,
                       dests, "carol from a client")
        expect_relayed(sipd, stranger, "sip:carol@example.com", foreign,
                       dests, "carol from a stranger with credentials",
                       with_credentials(sipd, stranger,
                                        "sip:carol@example.com", dests, ch))
        expect_relayed(sipd, stranger, "sip:frank@example.com",
                       client_host, dests, "frank (client-ip) from a "
                       "stranger")

        # loops end at once, with nothing sent
        expect_status(sipd, client, "sip:loop1@example.com", 482, dests,
                      "loop1 from a client")
        ch = expect_status(sipd, stranger, "sip:loop1@example.com", 407,
                           dests, "loop1 from a stranger")
        expect_status(sipd, stranger, "sip:loop1@example.com", 482, dests,
                      "loop1 from a stranger with credentials",
                      with_credentials(sipd, stranger,
                                       "sip:loop1@example.com", dests, ch))
        expect_status(sipd, client, "sip:erin@example.com", 482, dests,
                      "erin (sipd itself) from a client")

        # the setting, changed live
        sipreg.ctl(sipd, "relay", "to-non-clients", "anybody")
        expect_relayed(sipd, stranger, "sip:carol@example.com", foreign,
                       dests, "carol from a stranger, anybody")
        sipreg.ctl(sipd, "relay", "to-non-clients", "nobody")
        expect_status(sipd, stranger, "sip:frank@example.com", 407, dests,
                      "frank from a stranger, nobody")
        expect_status(sipd, stranger, "sip:carol@example.com", 407, dests,
                      "carol from a stranger, nobody")

        for d in dests:
            stray = [x for x in d.collect(0.3) if x.is_request() and
                     x.method != "ACK"]
            check(not stray, "%s:%d received %s" % (
                d.host, d.port, [x.start for x in stray]))
        # sipd 0.1.0 aborted about 5 s after such a call ended
        time.sleep(max(0.0, 6.0 - (time.monotonic() - first)))
        check(sipd.alive(), "sipd died:\n" + sipd.log()[-2000:])
    finally:
        for u in uas:
            u.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
