#!/usr/bin/python3
"""Keep-alives (RFC 5626 4.4.1, and for UDP what a NAT needs to keep a
mapping open).

- A UDP binding registered from behind a remote NAT (alice: Via
  10.0.0.5, packets from 127.0.0.5) gets a CRLF CRLF datagram every
  "set nat-keepalive" seconds (1 here: at least 2 within 3.5 s) at the
  address it registered from; bob, not behind a NAT, gets none; with
  "set nat-keepalive 0" alice gets none either.
- Over TCP a CRLF CRLF ping is answered with a CRLF pong (RFC 5626
  4.4.1), twice on one connection, and a REGISTER after it on the same
  connection is answered as usual (the ping does not break framing).
sipd before this change sent no keep-alive (and has no setting)."""

import socket
import time

import sipdtest
import sipreg
from sipdtest import check, free_tcp_port
from sipua import UA

CONF = """domain add example.com
account add alice@example.com password a-pw
account add bob@example.com password b-pw
set nat-keepalive 1
listener add tcp 127.0.0.1:%d
"""


class NatUA(UA):
    def via(self, branch):
        return "SIP/2.0/UDP 10.0.0.5:5060;branch=%s;rport" % branch


def pings(ua, duration):
    """The CRLF CRLF datagrams ua receives during duration seconds."""
    n = 0
    deadline = time.monotonic() + duration
    for _ in range(1000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ua.sock.settimeout(left)
        try:
            data = ua.sock.recvfrom(65536)[0]
        except socket.timeout:
            break
        if data == b"\r\n\r\n":
            n += 1
    return n


def tcp_ping(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=3.0)
    try:
        for _ in range(2):
            s.sendall(b"\r\n\r\n")
            got = b""
            while len(got) < 2:
                chunk = s.recv(16)
                check(chunk, "connection closed after a ping")
                got += chunk
            check(got == b"\r\n", "pong: %r" % got)
        s.sendall(b"OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
                  b"Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKka1\r\n"
                  b"Max-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\n"
                  b"To: <sip:127.0.0.1>\r\nCall-ID: ka@test\r\n"
                  b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % port)
        got = b""
        for _ in range(100):
            if b"\r\n\r\n" in got.lstrip(b"\r\n"):
                break
            chunk = s.recv(4096)
            check(chunk, "connection closed before the answer")
            got += chunk
        check(got.lstrip(b"\r\n").startswith(b"SIP/2.0 200"),
              "OPTIONS after pings: %r" % got[:80])
    finally:
        s.close()


def test(binary, started):
    tcp = free_tcp_port()
    sipd = sipreg.start(binary, started, conf=CONF % tcp)
    alice = NatUA("127.0.0.5")
    bob = UA("127.0.0.6")
    try:
        for ua, user in ((alice, "alice"), (bob, "bob")):
            c = sipreg.RegClient(ua, sipd.port, user, user[0] + "-pw")
            r = c.register(["<sip:%s@%s:%d>" % (user, ua.host, ua.port)],
                           expires=600)
            check(r.status == 200, "%s: %s" % (user, r.start))
        got = pings(alice, 3.5)
        check(got >= 2, "alice got %d keep-alives in 3.5 s" % got)
        check(pings(bob, 0.5) == 0, "bob, not behind a NAT, got pings")
        sipreg.ctl(sipd, "set", "nat-keepalive", "0")
        pings(alice, 1.2)  # one may have been on its way
        check(pings(alice, 2.5) == 0, "keep-alives with nat-keepalive 0")
        tcp_ping(tcp)
        sipdtest.stop_clean(sipd)
    finally:
        alice.close()
        bob.close()


if __name__ == "__main__":
    sipdtest.run(test)
