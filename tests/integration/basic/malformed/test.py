"""Requests msg_check() refuses are answered with its status and reason
phrase: 400 Bad Call-ID, 400 for a CSeq method mismatch, 400 Bad CSeq, 416
for an unknown URI scheme, 505 for SIP/7.0.  Without a Call-ID or a Via no
response can be built: dropped with a log line.  A malformed ACK is not
answered."""

import sipdtest
from sipdtest import Peer, Sipd, check, request


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    peer = Peer()
    try:
        # msg_response() needs a Call-ID to copy (its contract, and a
        # response without one would be malformed itself): no answer, a
        # log line naming the fault.
        peer.send(request("OPTIONS", sipd.port, omit=("Call-ID",)),
                  sipd.port)
        check(peer.recv(1.0) is None, "answered without a Call-ID")
        check(sipd.wait_log("dropped OPTIONS from 127.0.0.1:%d (Missing "
                            "Call-ID" % peer.port),
              "no log line for the missing Call-ID")

        r = peer.ask(request("OPTIONS", sipd.port, omit=("Call-ID",),
                             extra=[("Call-ID", "")]), sipd.port)
        check(r is not None, "empty Call-ID: no answer")
        check(r.status == 400 and r.reason == "Bad Call-ID",
              "empty Call-ID: got %r" % r)

        r = peer.ask(request("INVITE", sipd.port, cseq="7 OPTIONS"),
                     sipd.port)
        check(r is not None, "CSeq mismatch: no answer")
        check(r.status == 400 and "CSeq" in r.reason,
              "CSeq mismatch: got %r" % r)
        check(r.first("CSeq") == "7 OPTIONS", "CSeq not echoed")

        r = peer.ask(request("OPTIONS", sipd.port, cseq="x OPTIONS"),
                     sipd.port)
        check(r is not None and r.status == 400 and r.reason == "Bad CSeq",
              "bad CSeq: got %r" % r)

        r = peer.ask(request("OPTIONS", sipd.port, uri="foo:bar@example"),
                     sipd.port)
        check(r is not None and r.status == 416,
              "unknown scheme: got %r" % r)

        r = peer.ask(request("OPTIONS", sipd.port, version="SIP/7.0"),
                     sipd.port)
        check(r is not None and r.status == 505,
              "SIP/7.0: got %r" % r)
        check(";received=127.0.0.1" in (r.first("Via") or ""),
              "505: Via lacks received")

        peer.send(request("ACK", sipd.port, omit=("Call-ID",)), sipd.port)
        check(peer.recv(1.0) is None, "malformed ACK answered")

        # Without a Via no response can be built: dropped, logged.
        peer.send(request("OPTIONS", sipd.port, omit=("Via",)), sipd.port)
        check(peer.recv(1.0) is None, "answered without a Via")
        check(sipd.wait_log("dropped OPTIONS from 127.0.0.1:%d" % peer.port),
              "no log line for the request without Via")

        check(sipd.wait_log("with 400 (Bad Call-ID)"), "no log line for 400")
    finally:
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
