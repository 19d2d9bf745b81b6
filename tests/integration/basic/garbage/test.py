"""Garbage never crashes sipd, and each input gets exactly the answer
sipd.8 promises, read from the peer's socket:

- bytes that are no SIP message (NUL bytes, binary noise, empty and blank
  datagrams, truncated messages, a NUL in the headers, an oversized
  datagram) and a response: no answer at all (sipd.8, "Input dropped
  without an answer"), with a log line where it says so;
- a request whose top Via parses: an answer routed back by that Via, 200
  when the damage left it valid, else 400 with the reason phrase naming
  the damaged header.

Each input is followed by a sentinel OPTIONS from the same socket; sipd
runs one worker, which handles datagrams in order, so what arrives before
the sentinel's 200 is the input's answer, and nothing is its silence."""

import random

import sipdtest
from sipdtest import Fail, Peer, Sipd, check, new_tag, request

SIZE_LIMIT = 1500

# The reason phrases a damaged header's value may give (msg_check()).
REASONS = {
    "Max-Forwards": {"Bad Max-Forwards"},
    "From": {"Bad From"},
    "To": {"Bad To"},
    "Call-ID": {"Bad Call-ID"},
    "CSeq": {"Bad CSeq", "CSeq Method Mismatch"},
    "Content-Length": {"Bad Content-Length"},
}


def exchange(peer, sipd, data):
    """Send data, then the sentinel; the answers to data, in order."""
    peer.send(data, sipd.port)
    cid = "%s@sentinel" % new_tag()
    peer.send(request("OPTIONS", sipd.port, call_id=cid), sipd.port)
    got = []
    for _ in range(10):
        r = peer.recv(2.0)
        check(r is not None, "no answer to the sentinel after %r" % data[:80])
        if r.first("Call-ID") == cid:
            check(r.status == 200, "sentinel got %r" % r)
            return got
        got.append(r)
    raise Fail("more than 9 answers to %r" % data[:80])


def mangle(rng, port):
    """A good OPTIONS with 1 to 3 bytes of header values after its top
    Via replaced by printable characters (never SP, CR or LF, so every
    line stays a header line); returns (bytes, branch, damaged names)."""
    branch = "z9hG4bK" + new_tag()
    good = request("OPTIONS", port).decode()
    lines = good.split("\r\n")
    lines[1] = "Via: SIP/2.0/UDP 127.0.0.1;branch=%s;rport" % branch
    damaged = set()
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(2, len(lines) - 2)  # a header after the Via
        name, value = lines[i].split(": ", 1)
        k = rng.randrange(len(value))
        value = value[:k] + chr(rng.randrange(0x21, 0x7f)) + value[k + 1:]
        lines[i] = "%s: %s" % (name, value)
        damaged.add(name)
    return "\r\n".join(lines).encode(), branch, damaged


def test(binary, started):
    sipd = Sipd(binary, conf="limits message-size %d\nset processors 1" %
                SIZE_LIMIT)
    started.append(sipd)
    sipd.start()
    peer = Peer()
    rng = random.Random(3261)
    good = request("OPTIONS", sipd.port)
    # (input, expected status and reason or None for silence, why)
    cases = [
        (b"\x00", None, "no start line"),
        (b"\x00" * 64, None, "no start line"),
        (b"", None, "empty datagram"),
        (b"\r\n", None, "keep-alive"),
        (b"\r\n\r\n", None, "keep-alive"),
        (b"hello world", None, "no start line"),
        (b"OPTIONS", None, "no start line"),
        (b"OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\n", None,
         "no end of headers"),
        (good[:len(good) // 2], None, "cut short: no end of headers"),
        (good.replace(b"Max-Forwards: 70", b"Max-Forwards: \x0070"), None,
         "NUL in a header value"),
        (good.replace(b"Call-ID", b"Call\x00ID"), None,
         "NUL in a header name"),
        (good.replace(b"\r\n", b"\n"), (200, "OK"), "LF line ends"),
        (good.replace(b"OPTIONS sip", b"OPTIONS  sip"),
         (400, "Bad Request-URI"), "two spaces after the method"),
        (b"SIP/2.0 200\r\n\r\n", None, "a response is never answered"),
        (b"\xff\xfe" + good, None, "no start line"),
        (good + b"x" * (SIZE_LIMIT + 100), None, "over message-size"),
    ]
    # binary noise: no request line with a Via in it
    cases += [(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 600))),
               None, "binary noise") for _ in range(50)]
    try:
        for data, want, why in cases:
            got = exchange(peer, sipd, data)
            if want is None:
                check(got == [], "%s: answered %r (input %r)" % (
                    why, got, data[:80]))
            else:
                check(len(got) == 1 and (got[0].status, got[0].reason) ==
                      want, "%s: got %r, want %r" % (why, got, want))
        # damaged header values under a good top Via: always an answer,
        # by that Via, 200 or 400 naming a damaged header
        for _ in range(50):
            data, branch, damaged = mangle(rng, sipd.port)
            got = exchange(peer, sipd, data)
            check(len(got) == 1, "%s damaged: %d answers to %r" % (
                sorted(damaged), len(got), data))
            r = got[0]
            check(branch in (r.first("Via") or ""),
                  "answer not routed by the top Via: %r" % r.first("Via"))
            allowed = set().union(*(REASONS[n] for n in damaged))
            check(r.status == 200 or (r.status == 400 and
                                      r.reason in allowed),
                  "%s damaged: got %d %s, want 200 or 400 with one of %s "
                  "(input %r)" % (sorted(damaged), r.status, r.reason,
                                  sorted(allowed), data))
        check(sipd.alive(), "sipd died")
        check(sipd.wait_log("dropped datagram from 127.0.0.1:%d" % peer.port),
              "no log line for a dropped datagram")
        check(sipd.wait_log("(over %d bytes)" % SIZE_LIMIT),
              "no log line for the oversized datagram")
        check("\\x00" in sipd.log(), "NUL not escaped in the log")
    finally:
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
