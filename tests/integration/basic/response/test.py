"""Responses are dropped: sipd has no client transactions yet.  A malformed
response is dropped with a log line, and nothing is sent back."""

import sipdtest
from sipdtest import Peer, Sipd, check, request


def response(status="200 OK", omit=()):
    hdrs = [
        ("Via", "SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKresp1"),
        ("From", "<sip:a@example.invalid>;tag=1"),
        ("To", "<sip:b@example.invalid>;tag=2"),
        ("Call-ID", "resp@sipdtest"),
        ("CSeq", "1 OPTIONS"),
        ("Content-Length", "0"),
    ]
    text = "SIP/2.0 %s\r\n" % status
    text += "".join("%s: %s\r\n" % h for h in hdrs if h[0] not in omit)
    return (text + "\r\n").encode()


def test(binary, started):
    sipd = Sipd(binary, conf="log level client low-level")
    started.append(sipd)
    sipd.start()
    peer = Peer()
    try:
        peer.send(response(omit=("Call-ID",)), sipd.port)
        check(peer.recv(1.0) is None, "malformed response answered")
        check(sipd.wait_log("dropped malformed response from 127.0.0.1:%d"
                            % peer.port),
              "no log line for the malformed response")
        check(sipd.wait_log("(Missing Call-ID)"), "log line lacks the cause")

        peer.send(response(), sipd.port)
        check(peer.recv(1.0) is None, "response answered")
        check(sipd.wait_log("dropped 200 response from 127.0.0.1:%d"
                            % peer.port),
              "no log line for the stray response")

        # An unparseable status line: not even known to be a response.
        peer.send(response(status="abc OK"), sipd.port)
        check(peer.recv(1.0) is None, "broken status line answered")
        check(sipd.wait_log("dropped datagram from 127.0.0.1:%d" % peer.port),
              "no log line for the broken status line")

        r = peer.ask(request("OPTIONS", sipd.port), sipd.port)
        check(r is not None and r.status == 200, "OPTIONS afterwards")
    finally:
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
