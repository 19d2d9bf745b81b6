"""One address cannot take every TCP input channel, and a connection that
sends nothing is not kept.

sipd runs with input-channels 64 (source-channels left automatic: a
sixteenth, 4) and first-message-timeout 2; loopback is not a client.

- show settings gives source-channels 4 and first-message-timeout 2;
- 127.0.0.2 opens 4 connections, each answered 200; its 5th is closed at
  once, its OPTIONS unanswered; meanwhile 127.0.0.3 connects and gets 200,
  and once one of 127.0.0.2's connections is closed it is served again;
- a connection from 127.0.0.4 that sends nothing, and one that sends half
  a message, are closed 2 s after they opened (polled every 0.05 s,
  accepted from 2 - 0.3 s to 2 + 1.5 s), unanswered;
- a connection that sent a whole message is not closed by that timer:
  still open and answering 2 + 1.5 s later.
"""

import json
import socket
import time

import sipdtest
from sipdtest import Response, Sipd, check, request, sipctl

FIRST = 2.0       # first-message-timeout
PER_SOURCE = 4    # 64 / 16
SLACK = 1.5


class Conn:
    """A TCP connection from a chosen loopback address."""

    def __init__(self, port, src):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=2,
                                             source_address=(src, 0))
        self.opened = time.monotonic()
        self.buf = b""
        self.eof = False

    def options(self):
        msg = request("OPTIONS", self.port)
        return msg.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP", 1)

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.eof = True
            return False

    def poll(self, timeout):
        """Read what comes within timeout; True once the peer closed."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return self.eof
        except OSError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buf += chunk
        return self.eof

    def status(self, timeout=3.0):
        """The status of the first answer, or None (closed, or silence)."""
        deadline = time.monotonic() + timeout
        for _ in range(100):
            if b"\r\n\r\n" in self.buf:
                return Response(self.buf).status
            if self.poll(0.1) or time.monotonic() > deadline:
                break
        if b"\r\n\r\n" in self.buf:
            return Response(self.buf).status
        return None

    def ask(self):
        self.buf = b""
        if not self.send(self.options()):
            return None
        return self.status()

    def closed_within(self, limit):
        """Seconds from opening until the peer closed, or None when still
        open limit seconds after opening (polled every 0.05 s)."""
        for _ in range(int(limit / 0.05) + 2):
            if self.poll(0.05):
                return time.monotonic() - self.opened
            if time.monotonic() - self.opened > limit:
                break
        return None

    def close(self):
        self.sock.close()


def test(binary, started):
    tcp_port = sipdtest.free_udp_port()
    sipd = Sipd(binary, clients=False,
                conf="set input-channels 64\n"
                "set first-message-timeout %d\n"
                "listener add tcp 127.0.0.1:%d" % (FIRST, tcp_port))
    started.append(sipd)
    sipd.start()
    p = sipctl(sipd, "-j", "show", "settings")
    check(p.returncode == 0, "show settings: %r" % p.stderr)
    s = {r["setting"]: r["value"]
         for r in json.loads(p.stdout.splitlines()[-1])["data"]}
    check(s.get("source-channels") == PER_SOURCE and
          s.get("first-message-timeout") == FIRST,
          "show settings: %r" % s)

    conns = []
    try:
        for i in range(PER_SOURCE):
            c = Conn(tcp_port, "127.0.0.2")
            conns.append(c)
            check(c.ask() == 200, "127.0.0.2, connection %d not served" %
                  (i + 1))
        extra = Conn(tcp_port, "127.0.0.2")
        extra.send(extra.options())
        got = extra.status(2.0)
        check(got is None and extra.eof,
              "127.0.0.2, connection %d: %r, open %s (not closed at once)"
              % (PER_SOURCE + 1, got, not extra.eof))
        extra.close()
        other = Conn(tcp_port, "127.0.0.3")
        check(other.ask() == 200, "127.0.0.3 not served while 127.0.0.2 "
              "holds its %d connections" % PER_SOURCE)
        other.close()
        for c in conns:
            check(c.ask() == 200, "a served connection was dropped")

        # one closed: the address may have one more (bounded retries,
        # until sipd has seen the close)
        conns.pop().close()
        ok = False
        for _ in range(20):
            c = Conn(tcp_port, "127.0.0.2")
            if c.ask() == 200:
                conns.append(c)
                ok = True
                break
            c.close()
            time.sleep(0.1)
        check(ok, "127.0.0.2 not served again after closing one")

        # silent, half a message, and a whole one
        silent = Conn(tcp_port, "127.0.0.4")
        half = Conn(tcp_port, "127.0.0.4")
        msg = half.options()
        half.send(msg[:len(msg) // 2])
        whole = Conn(tcp_port, "127.0.0.4")
        check(whole.ask() == 200, "127.0.0.4 not served")
        for name, c in (("silent", silent), ("half a message", half)):
            took = c.closed_within(FIRST + SLACK)
            check(took is not None, "%s connection still open %.1f s after "
                  "it opened (first-message-timeout %.0f)" %
                  (name, FIRST + SLACK, FIRST))
            check(took >= FIRST - 0.3, "%s connection closed after %.1f s, "
                  "before first-message-timeout %.0f" % (name, took, FIRST))
            check(b"SIP/2.0" not in c.buf, "%s connection answered: %r" %
                  (name, c.buf[:200]))
            c.close()
        while time.monotonic() - whole.opened < FIRST + SLACK:
            time.sleep(0.05)
        check(not whole.poll(0.01), "a connection that sent a message was "
              "closed by first-message-timeout")
        check(whole.ask() == 200, "the served connection stopped answering")
        whole.close()
    finally:
        for c in conns:
            c.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
