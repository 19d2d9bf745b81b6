"""An IPv6 listener on [::1] answers OPTIONS beside an IPv4 one; the Via
gets received=::1 (no brackets, RFC 3261 25.1).  Skipped where ::1 cannot
be bound."""

import sipdtest
from sipdtest import Peer, Sipd, Skip, check, request


def test(binary, started):
    if not sipdtest.ipv6_available():
        raise Skip("::1 is not available")
    sipd = Sipd(binary, listeners=("127.0.0.1", "::1"))
    started.append(sipd)
    sipd.start()
    port6 = sipd.ports[1]
    peer = Peer("::1")
    try:
        req = request("OPTIONS", port6, host="::1", via_host="[::1]",
                      via_port=peer.port)
        r = peer.ask(req, port6)
        check(r is not None and r.status == 200, "got %r" % r)
        via = r.first("Via") or ""
        check("rport=%d" % peer.port in via, "rport: %r" % via)

        # A sent-by other than the source: received names the source.
        req = request("OPTIONS", port6, host="::1", via_host="[2001:db8::1]",
                      via_port=peer.port)
        r = peer.ask(req, port6)
        check(r is not None and r.status == 200, "got %r" % r)
        via = r.first("Via") or ""
        check("received=::1" in via, "received: %r" % via)

        r4 = Peer()
        try:
            r = r4.ask(request("OPTIONS", sipd.port), sipd.port)
            check(r is not None and r.status == 200, "IPv4 listener")
        finally:
            r4.close()
    finally:
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
