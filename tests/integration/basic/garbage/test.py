"""Garbage never crashes sipd: NUL bytes, binary noise, empty datagrams,
keep-alives, truncated and oversized messages are dropped (with a log line
where it says so) and sipd still answers OPTIONS afterwards."""

import random

import sipdtest
from sipdtest import Peer, Sipd, check, request

SIZE_LIMIT = 1500


def test(binary, started):
    sipd = Sipd(binary, conf="limits message-size %d" % SIZE_LIMIT)
    started.append(sipd)
    sipd.start()
    peer = Peer()
    rng = random.Random(3261)
    good = request("OPTIONS", sipd.port)
    cases = [
        b"\x00",
        b"\x00" * 64,
        b"",
        b"\r\n",
        b"\r\n\r\n",
        b"hello world",
        b"OPTIONS",
        b"OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\n",
        good[:len(good) // 2],
        good.replace(b"Max-Forwards: 70", b"Max-Forwards: \x0070"),
        good.replace(b"Call-ID", b"Call\x00ID"),
        good.replace(b"\r\n", b"\n"),
        good.replace(b"OPTIONS sip", b"OPTIONS  sip"),
        b"SIP/2.0 200\r\n\r\n",
        b"\xff\xfe" + good,
        good + b"x" * (SIZE_LIMIT + 100),
    ]
    cases += [bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 600)))
              for _ in range(50)]
    # Noise with a SIP start line and mangled headers.
    for _ in range(50):
        b = bytearray(good)
        for _ in range(rng.randrange(1, 8)):
            b[rng.randrange(len(b))] = rng.getrandbits(8)
        cases.append(bytes(b))
    try:
        for data in cases:
            peer.send(data, sipd.port)
        peer.drain()
        check(sipd.alive(), "sipd died")
        r = peer.ask(request("OPTIONS", sipd.port), sipd.port)
        check(r is not None and r.status == 200, "OPTIONS after garbage")
        check(sipd.wait_log("dropped datagram from 127.0.0.1:%d" % peer.port),
              "no log line for a dropped datagram")
        check(sipd.wait_log("(over %d bytes)" % SIZE_LIMIT),
              "no log line for the oversized datagram")
        check("\\x00" in sipd.log(), "NUL not escaped in the log")
    finally:
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
