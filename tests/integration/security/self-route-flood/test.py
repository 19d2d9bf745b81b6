"""One packet must not make sipd forward to itself (RFC 3261 16.4: every
Route entry naming sipd is removed; 16.3 step 4: a next hop that is sipd
itself is a loop).  sipd runs with loopback not trusted but 127.0.0.5 a
client; the canary on 127.0.0.2 is a stranger's destination.

Each request carries 1,200 Route entries naming sipd (each with its own
parameter, twelve lines of a hundred) and Max-Forwards 255:
- OPTIONS sip:SIPD from a stranger: 200 from sipd itself;
- OPTIONS to the canary from a stranger, the canary's Route after sipd's:
  407;
- OPTIONS to the canary from the client, with <sip:0.0.0.0:PORT;lr> (sipd
  in another form) after sipd's entries: 482.
After each, sipctl show stats says sipd created no client transaction
and sent no request, and no datagram reached the canary (a UDP socket)
or the stranger other than the one answer."""

import sipdtest
import sipreg
import sipua
from sipdtest import check

CONF = """domain add example.com
account add alice@example.com password secret
"""
ENTRIES = 1200
PER_LINE = 100


def flood(port, last=None):
    """ENTRIES Route entries naming sipd on port, and last after them."""
    entries = ["<sip:127.0.0.1:%d;lr;n=%d>" % (port, i)
               for i in range(ENTRIES)]
    if last:
        entries.append(last)
    return [("Route", ", ".join(entries[i:i + PER_LINE]))
            for i in range(0, len(entries), PER_LINE)]


def stats(sipd):
    s = sipreg.ctl(sipd, "show", "stats")
    return s["client-created"], sum(s["requests-out"].values())


def one(sipd, ua, canary, uri, routes, want, what):
    before = stats(sipd)
    call = sipua.Call(ua, uri)
    ua.send(call.request("OPTIONS", max_forwards=255, extra=routes),
            sipd.port)
    got = ua.collect(2.0)
    check(len(got) == 1 and got[0].status == want and
          got[0].call_id() == call.call_id,
          "%s: received %s, not one %d" % (what, got, want))
    after = stats(sipd)
    check(after == before, "%s: sipd created %d client transactions and "
          "sent %d requests" % (what, after[0] - before[0],
                                after[1] - before[1]))
    stray = canary.collect(0.3)
    check(stray == [], "%s: the canary received %s" % (what, stray))


def test(binary, started):
    stranger = sipua.UA("127.0.0.3")
    client = sipua.UA("127.0.0.5")
    canary = sipua.UA("127.0.0.2")
    try:
        sipd = sipreg.start(binary, started, conf=CONF,
                            client_ip=["127.0.0.5/32"])
        bob = "sip:bob@127.0.0.2:%d" % canary.port
        one(sipd, stranger, canary, "sip:127.0.0.1:%d" % sipd.port,
            flood(sipd.port), 200, "OPTIONS to sipd")
        one(sipd, stranger, canary, bob,
            flood(sipd.port, "<sip:127.0.0.2:%d;lr>" % canary.port), 407,
            "OPTIONS to the canary from a stranger")
        one(sipd, client, canary, bob,
            flood(sipd.port, "<sip:0.0.0.0:%d;lr>" % sipd.port), 482,
            "OPTIONS to sipd as 0.0.0.0 from a client")
        check(sipd.alive(), "sipd died")
    finally:
        stranger.close()
        client.close()
        canary.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
