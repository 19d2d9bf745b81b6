"""A request that requires an extension gets 420 Bad Extension with the
option tags in Unsupported (RFC 3261 8.2.2.3): sipd supports none yet.
CANCEL is exempt, and an ACK is never answered."""

import sipdtest
from sipdtest import Peer, Sipd, check, request


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    peer = Peer()
    try:
        req = request("OPTIONS", sipd.port,
                      extra=[("Require", "100rel, timer")])
        r = peer.ask(req, sipd.port)
        check(r is not None and r.status == 420, "got %r" % r)
        tags = [t.strip() for v in r.get("Unsupported") for t in v.split(",")]
        check(tags == ["100rel", "timer"], "Unsupported: %r" % tags)

        req = request("CANCEL", sipd.port, extra=[("Require", "100rel")])
        r = peer.ask(req, sipd.port)
        # no INVITE to cancel: 481 (RFC 3261 16.10)
        check(r is not None and r.status == 481, "CANCEL: got %r" % r)

        peer.send(request("ACK", sipd.port, extra=[("Require", "x")]),
                  sipd.port)
        check(peer.recv(1.0) is None, "ACK was answered")
    finally:
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
