"""Requests other than OPTIONS get 501 Not Implemented, and an ACK gets no
response at all (RFC 3261 17.1.1.3)."""

import sipdtest
from sipdtest import Peer, Sipd, check, request


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    peer = Peer()
    try:
        for method in ("INVITE", "REGISTER", "BYE", "MESSAGE", "FOOBAR"):
            r = peer.ask(request(method, sipd.port), sipd.port)
            check(r is not None, "no answer to %s" % method)
            check(r.status == 501 and r.reason == "Not Implemented",
                  "%s: got %r" % (method, r))
            check(";tag=" in (r.first("To") or ""), "%s: no To tag" % method)
            check(r.first("CSeq") == "1 %s" % method, "%s: CSeq" % method)

        peer.send(request("ACK", sipd.port), sipd.port)
        r = peer.recv(1.0)
        check(r is None, "ACK was answered: %r" % r)

        r = peer.ask(request("OPTIONS", sipd.port), sipd.port)
        check(r is not None and r.status == 200, "OPTIONS after ACK")
    finally:
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
