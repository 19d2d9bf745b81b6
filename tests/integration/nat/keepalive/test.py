#!/usr/bin/python3
"""Keep-alives (RFC 5626 4.4.1, and for UDP what a NAT needs to keep a
mapping open).

- A UDP binding registered from behind a remote NAT (alice: Via
  10.0.0.5, packets from 127.0.0.5) gets a CRLF CRLF datagram every
  "set nat-keepalive" seconds (1 here: at least 2 within 4.5 s) at the
  address it registered from; bob, not behind a NAT, gets none; with
  "set nat-keepalive 0" alice gets none either.
- With "set nat-keepalive-method options" alice gets OPTIONS instead;
  while she answers them show registrations counts no failure; an
  answer from another address (bob's socket, alice's To) counts for
  nothing; once she stops answering the count rises, and at "set
  nat-keepalive-drop 3" unanswered her binding is removed with a log
  line, while bob's stays.
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


def failures(sipd):
    return {r["aor"]: r["keepalive-failures"]
            for r in sipreg.registrations(sipd)}


def options(sipd, alice, bob):
    sipreg.ctl(sipd, "set", "nat-keepalive-method", "options")
    sipreg.ctl(sipd, "set", "nat-keepalive-drop", "3")
    sipreg.ctl(sipd, "set", "nat-keepalive", "1")
    answered = 0
    deadline = time.monotonic() + 4.5
    for _ in range(100):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        m = alice.recv(left)
        if m is None:
            break
        if m.is_request() and m.method == "OPTIONS":
            alice.respond(m, 200)
            answered += 1
    check(answered >= 2, "OPTIONS answered: %d" % answered)
    check(failures(sipd) == {"alice@example.com": 0, "bob@example.com": 0},
          "failures while answering: %r" % failures(sipd))
    # alice silent, her OPTIONS answered from bob's address only (a
    # forged answer, signed for alice's): the count rises, the binding
    # goes
    seen = set()
    for _ in range(80):
        f = failures(sipd)
        seen.add(f.get("alice@example.com"))
        if "alice@example.com" not in f:
            break
        m = alice.recv(0.1)
        if m is not None and m.is_request() and m.method == "OPTIONS":
            bob.respond(m, 200)
    check("alice@example.com" not in failures(sipd),
          "alice not dropped: %r" % failures(sipd))
    check(1 in seen or 2 in seen, "failures never shown: %r" % seen)
    check(list(failures(sipd)) == ["bob@example.com"], "bob dropped too")
    check(sipd.wait_log("nat, dropped alice@example.com at 127.0.0.5:", 1),
          "no log line for the drop")
    sipreg.ctl(sipd, "set", "nat-keepalive", "0")


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
        # the first one interval after start, then every second; a
        # loaded machine may make a tick late
        got = pings(alice, 4.5)
        check(got >= 2, "alice got %d keep-alives in 4.5 s" % got)
        check(pings(bob, 0.5) == 0, "bob, not behind a NAT, got pings")
        sipreg.ctl(sipd, "set", "nat-keepalive", "0")
        pings(alice, 1.2)  # one may have been on its way
        check(pings(alice, 2.5) == 0, "keep-alives with nat-keepalive 0")
        options(sipd, alice, bob)
        tcp_ping(tcp)
        sipdtest.stop_clean(sipd)
    finally:
        alice.close()
        bob.close()


if __name__ == "__main__":
    sipdtest.run(test)
