"""The open-relay canary: sipd with no client-ip at all, a canary on
127.0.0.2 (a UDP socket and a TCP listener on one port), and a stranger
on 127.0.0.3 trying every way it knows to make sipd send something to
the canary.  The canary must receive nothing: no datagram, no
connection.

The configuration is the shipped one's shape with the client-ip lines
removed: example.com with alice and bob, bob forwarded to the canary,
and a "route add *" rule pointing at the canary (the way out for
clients, which must not be one for strangers).

The tricks (every one answered with a final response, 407 for most; the
test waits for it, so nothing is still pending when the canary is read):
- a Request-URI naming the canary, for INVITE, MESSAGE, OPTIONS,
  REGISTER, SUBSCRIBE, BYE (with a To tag) and ACK, over UDP, with
  ;transport=tcp, as sips:, as [::ffff:127.0.0.2], with ;maddr=;
- the same with a spoofed local From (alice@example.com);
- a Route naming the canary in front of a request for alice;
- a request for bob, forwarded to the canary (INVITE, MESSAGE, OPTIONS);
- a foreign domain that only the "*" rule reaches;
- alice registering (with her credentials) a Path to the canary, then a
  call to alice; and alice registering a Contact on the canary from
  127.0.0.4, then a call to alice (it goes where the registration came
  from, never to the canary);
- sip:x%127.0.0.2@example.com (the % form).
- Route entries naming sipd that sipd did not sign: a loose route in
  front of the canary, a strict route (Request-URI sipd, the canary in
  the Route), a forged ;sig=, five of sipd's own in a row, and sipd's
  then the canary's in front of alice.
sipd 0.1.0 relayed the "*" rule's domain, bob's forwarder (and then
aborted), the Path, the spoofed From and the self-Route tricks.
"""

import select
import socket
import time

import sipdtest
import sipreg
from sipdtest import check, new_tag
from sipua import UA


class Canary:
    """UDP and TCP on 127.0.0.2, one port: anything that arrives."""

    def __init__(self):
        for _ in range(50):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.2", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.tcp.bind(("127.0.0.2", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        else:
            raise sipdtest.Fail("no port free on 127.0.0.2 for UDP and TCP")
        self.tcp.listen(16)
        self.got = []

    def poll(self, timeout):
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.udp, self.tcp], [], [], left)
            if not ready:
                break
            for s in ready:
                if s is self.udp:
                    data, src = self.udp.recvfrom(65536)
                    self.got.append(("udp", src, data[:80]))
                else:
                    conn, src = self.tcp.accept()
                    self.got.append(("tcp", src, b"(a connection)"))
                    conn.close()
        return self.got

    def close(self):
        self.udp.close()
        self.tcp.close()


def request(ua, method, uri, from_uri="sip:mallory@attacker.test",
            extra=(), to=None, to_tag=False):
    call_id = "%s@canary" % new_tag()
    to = to or "<%s>" % uri
    if to_tag:
        to += ";tag=%s" % new_tag()
    hdrs = [("Via", ua.via("z9hG4bK%s%s" % (new_tag(), new_tag()))),
            ("Max-Forwards", "70"),
            ("From", "<%s>;tag=%s" % (from_uri, new_tag())),
            ("To", to), ("Call-ID", call_id),
            ("CSeq", "1 %s" % method)]
    if method in ("INVITE", "SUBSCRIBE", "REGISTER"):
        hdrs.append(("Contact", "<%s>" % ua.uri("m")))
    if method == "SUBSCRIBE":
        hdrs.append(("Event", "presence"))
    hdrs += list(extra)
    hdrs.append(("Content-Length", "0"))
    text = "%s %s SIP/2.0\r\n" % (method, uri)
    text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
    return call_id, text.encode()


def trick(sipd, canary, ua, method, uri, **kw):
    """Send one request; wait for its final response (none for ACK), and
    fail at once, naming the trick, when the canary got anything.
    Returns the status."""
    call_id, data = request(ua, method, uri, **kw)
    ua.send(data, sipd.port)
    status = None
    deadline = time.monotonic() + (0.05 if method == "ACK" else 2.0)
    for _ in range(50):
        m = ua.recv(max(0.0, deadline - time.monotonic()))
        if m is None:
            break
        if not m.is_request() and m.call_id() == call_id and \
                m.status >= 200:
            status = m.status
            break
    got = canary.poll(0.02)
    check(not got, "%s %s %s: the canary on 127.0.0.2 received %s" % (
        method, uri, kw, got[:3]))
    check(status is not None or method == "ACK",
          "%s %s %s: no final response" % (method, uri, kw))
    return status


def test(binary, started):
    canary = Canary()
    c = canary.port
    conf = """domain add example.com
account add alice@example.com password secret
account add bob@example.com password b0b-pw
account forward bob@example.com sip:x@127.0.0.2:%d
route add * 127.0.0.2:%d
""" % (c, c)
    sipd = sipreg.start(binary, started, client_ip=[], conf=conf)
    stranger, alice_ua = UA("127.0.0.3"), UA("127.0.0.4")
    results = []
    try:
        targets = ["sip:x@127.0.0.2:%d" % c,
                   "sip:x@127.0.0.2:%d;transport=tcp" % c,
                   "sips:x@127.0.0.2:%d" % c,
                   "sip:x@[::ffff:127.0.0.2]:%d" % c,
                   "sip:x@192.0.2.1;maddr=127.0.0.2",
                   "sip:x@elsewhere.test",
                   "sip:x%%127.0.0.2:%d@example.com" % c]
        methods = ["INVITE", "MESSAGE", "OPTIONS", "REGISTER",
                   "SUBSCRIBE", "BYE", "ACK"]
        for uri in targets:
            for method in methods:
                for f in ("sip:mallory@attacker.test",
                          "sip:alice@example.com"):
                    st = trick(sipd, canary, stranger, method, uri,
                               from_uri=f, to_tag=method in ("BYE", "ACK"))
                    results.append((method, uri, f, st))
        # a Route to the canary in front of a local user
        for method in ("INVITE", "MESSAGE", "OPTIONS"):
            results.append((method, "Route", None, trick(
                sipd, canary, stranger, method, "sip:alice@example.com",
                extra=[("Route", "<sip:127.0.0.2:%d;lr>" % c)])))
            results.append((method, "bob", None, trick(
                sipd, canary, stranger, method, "sip:bob@example.com")))

        # Route entries naming sipd, which it did not sign: a loose
        # route in front of the canary's URI, a strict route (the
        # Request-URI sipd, the canary in the Route), a forged ;sig=,
        # and several of sipd's own in a row
        me = "127.0.0.1:%d" % sipd.port
        forged = [
            ("sip:x@127.0.0.2:%d" % c, ["<sip:%s;lr>" % me]),
            ("sip:%s" % me, ["<sip:x@127.0.0.2:%d>" % c]),
            ("sip:x@127.0.0.2:%d" % c,
             ["<sip:%s;lr;sig=000000000000000000000000>" % me]),
            ("sip:x@127.0.0.2:%d" % c, ["<sip:%s;lr>" % me] * 5),
            ("sip:alice@example.com",
             ["<sip:%s;lr>" % me, "<sip:127.0.0.2:%d;lr>" % c]),
        ]
        for uri, routes in forged:
            for method in ("INVITE", "MESSAGE", "BYE", "ACK"):
                results.append((method, "self-Route", None, trick(
                    sipd, canary, stranger, method, uri,
                    to_tag=method in ("BYE", "ACK"),
                    extra=[("Route", r) for r in routes])))

        # alice's own registrations: a Path and a Contact on the canary
        reg = sipreg.RegClient(alice_ua, sipd.port, "alice", "secret")
        r = reg.register([reg.contact()], 300, extra=[
            ("Path", "<sip:127.0.0.2:%d;lr>" % c), ("Supported", "path")])
        results.append(("REGISTER", "Path", None, r.status))
        r = reg.register(["<sip:alice@127.0.0.2:%d>" % c], 300)
        results.append(("REGISTER", "Contact", None, r.status))
        for method in ("INVITE", "MESSAGE", "OPTIONS"):
            call_id, data = request(stranger, method,
                                    "sip:alice@example.com")
            stranger.send(data, sipd.port)
            # alice's device (where the registration came from) answers
            for _ in range(20):
                m = alice_ua.recv(1.0)
                if m is None:
                    break
                if m.is_request() and m.call_id() == call_id:
                    alice_ua.respond(m, 486 if method == "INVITE" else 200)
                    break
            stranger.collect(0.2)

        got = canary.poll(1.0)
        check(not got, "the canary on 127.0.0.2 received %d: %s" % (
            len(got), got[:5]))
        print("%d tricks, the canary received nothing" % len(results))
    finally:
        canary.close()
        stranger.close()
        alice_ua.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
