"""A Path (RFC 3327) decides where an address-of-record's calls go, so
sipd takes one only from a trusted edge proxy (a client-ip source) that
says "Supported: path" (sipd.conf(5), Registrar).

sipd with the loopback not trusted: Client IP 127.0.0.5/32 only, the
edge proxy.  A victim UAS on 127.0.0.2 must receive nothing.  What each
REGISTER of alice (with her credentials) gets:
- from 127.0.0.4 with Path <sip:127.0.0.2:V;lr> and Supported: path:
  403, nothing stored, and a stranger's INVITE to alice afterwards gets
  407 and reaches nobody (sipd 0.1.0 answered 200 and forwarded the
  stranger's INVITE to 127.0.0.2: an open relay);
- from 127.0.0.4 with the Path and no Supported: path: 420 with
  Unsupported: path;
- from the edge 127.0.0.5 with Path <sip:127.0.0.5:E;lr> and Supported:
  path: 200 echoing the Path; a stranger's INVITE to alice then goes to
  the edge, with the Path as its Route and alice's contact as its
  Request-URI;
- from the edge with a Path whose first hop is 127.0.0.2: stored (the
  edge is trusted), but no request follows it to a host that is not a
  client-ip: the client's INVITE gets 480 and 127.0.0.2 nothing.
"""

import select
import time

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA, Call

CONF = """domain add example.com
account add alice@example.com password secret
"""


def invite(sipd, sender, uri, dests, timeout=2.0):
    call = Call(sender, uri)
    sender.send(call.request("INVITE"), sipd.port)
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


def test(binary, started):
    sipd = sipreg.start(binary, started, client_ip=["127.0.0.5/32"],
                        conf=CONF)
    stranger, user, edge, victim = (UA("127.0.0.3"), UA("127.0.0.4"),
                                    UA("127.0.0.5"), UA("127.0.0.2"))
    dests = [user, edge, victim]
    bad_path = "<sip:127.0.0.2:%d;lr>" % victim.port
    try:
        reg = sipreg.RegClient(user, sipd.port, "alice", "secret")
        r = reg.register([reg.contact()], 300,
                         extra=[("Path", bad_path), ("Supported", "path")])
        check(r.status == 403, "Path from a non-client: %d, not 403" %
              r.status)
        check(not r.get("Path"), "the 403 echoes a Path")
        check(sipreg.contacts_of(sipd, "alice@example.com") == [],
              "a binding was stored: %s" %
              sipreg.contacts_of(sipd, "alice@example.com"))
        how, ua, m = invite(sipd, stranger, "sip:alice@example.com", dests)
        check(how == "answered" and m.status == 407,
              "stranger's INVITE to alice: %s %s" % (
                  how, m.start if m else ua and ua.host))

        r = reg.register([reg.contact()], 300, extra=[("Path", bad_path)])
        check(r.status == 420, "Path without Supported: %d, not 420" %
              r.status)
        check(r.first("Unsupported") == "path", "420 without "
              "Unsupported: path: %r" % r.first("Unsupported"))

        # the trusted edge
        ereg = sipreg.RegClient(edge, sipd.port, "alice", "secret")
        good_path = "<sip:127.0.0.5:%d;lr>" % edge.port
        contact = "<sip:alice@192.0.2.44:5060>"
        r = ereg.register([contact], 300, extra=[("Path", good_path),
                                                 ("Supported", "path")])
        check(r.status == 200, "Path from the edge: %d" % r.status)
        check(r.first("Path") == good_path, "200 Path %r" %
              r.first("Path"))
        how, ua, m = invite(sipd, stranger, "sip:alice@example.com", dests)
        check(how == "relayed" and ua is edge,
              "stranger's INVITE to alice behind the edge: %s %s" % (
                  how, m.start if m else ""))
        check(m.uri == "sip:alice@192.0.2.44:5060", "Request-URI %s" %
              m.uri)
        check(m.first("Route") == good_path, "Route %r" % m.first("Route"))

        # a trusted edge's Path to a host that is not a client-ip
        r = ereg.register([contact], 0, extra=[("Path", good_path),
                                               ("Supported", "path")])
        check(r.status == 200, "removal: %d" % r.status)
        r = ereg.register([contact], 300, extra=[("Path", bad_path),
                                                 ("Supported", "path")])
        check(r.status == 200, "edge's Path to 127.0.0.2: %d" % r.status)
        how, ua, m = invite(sipd, edge, "sip:alice@example.com", dests)
        check(how == "answered" and m.status == 480,
              "INVITE along a Path to a non-client: %s %s" % (
                  how, m.start if m else ua and ua.host))
        stray = [x.start for x in victim.collect(0.3) if x.is_request()]
        check(not stray and not [x for x in victim.seen
                                 if x.is_request()],
              "127.0.0.2 received %s" % [x.start for x in victim.seen])
    finally:
        for u in (stranger, user, edge, victim):
            u.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
