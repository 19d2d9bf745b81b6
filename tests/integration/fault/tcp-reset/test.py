"""Peers that reset TCP in the middle of a message (RFC 3261 18.3
framing): 40 connections each send part of a request (a cut start line,
headers without their end, a body shorter than its Content-Length) and
then reset the connection (SO_LINGER 0: an RST, not a FIN).  Meanwhile a
client on a TCP connection of its own keeps asking OPTIONS and gets each
200, and a call over UDP completes.  Within 2 s sipd holds no connection
but the good client's (show stats, connections-in; the connection
timeouts are far off, so the reset alone frees each), and still
answers."""

import socket
import struct
import time

import faultlib
import sipdtest
import sipua
from sipdtest import check, new_tag

PARTS = [
    b"INVITE sip:bob@127.0.0.1 SIP/2",
    b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;"
    b"branch=z9hG4bKcut\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:",
    b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;"
    b"branch=z9hG4bKbody\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"
    b"To: <sip:x@127.0.0.1>\r\nCall-ID: body@reset\r\nCSeq: 1 OPTIONS\r\n"
    b"Max-Forwards: 70\r\nContent-Length: 5000\r\n\r\nv=0\r\no=",
]


def reset_after(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    time.sleep(0.01)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack("ii", 1, 0))
    s.close()


def options_ok(conn, sipd):
    if not conn.send(conn.options(sipd.port,
                                  call_id="%s@good" % new_tag())):
        return False
    got = conn.read(1, 3.0)
    return len(got) == 1 and got[0].status == 200


def test(binary, started):
    sipdtest.sipctl_binary()
    # the timeouts far off: a reset alone must free each connection
    sipd = sipua.start_proxy(
        binary, started, tcp=True,
        conf=lambda s: "set force-rr on\nset first-message-timeout 60")
    good = sipua.RawConn(sipd.port)
    try:
        for i in range(40):
            reset_after(sipd.port, PARTS[i % len(PARTS)])
            if i % 10 == 0:
                check(options_ok(good, sipd),
                      "the good TCP client not answered after %d resets"
                      % (i + 1))
        faultlib.call(sipd)
        check(options_ok(good, sipd), "the good TCP client not answered")
        # the reset connections are gone; only the good one is left
        left = None
        for _ in range(20):
            left = faultlib.stats(sipd)["connections-in"]
            if left == 1:
                break
            time.sleep(0.1)
        print("40 connections reset mid-message; connections-in now %d" %
              left)
        check(left == 1, "%s inbound connections held, not 1" % left)
    finally:
        good.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
