"""limits message-size and limits line changed live are the ones in force,
over UDP and over TCP, as show settings says.

sipd starts with message-size 2000 and line 1000.  Then, each time through
sipctl on the running daemon, and each limit checked on the wire with an
OPTIONS to sipd just under it (20 bytes) and just over it:

1. raised to message-size 20000, line 10000 (above the framer's built-in
   8192, so the TCP framer must have the new value too):
   a 19980-byte message, and one with a 9980-byte line, each get 200 over
   UDP and over TCP; a 20020-byte message and a 10020-byte line get no
   answer (UDP: dropped; TCP: the connection is closed, nothing sent).
2. lowered to message-size 1500, line 500: 1480 bytes and a 480-byte line
   get 200; 1520 bytes and a 520-byte line get no answer, on both.

show settings reports each value after each change; set processors, which
takes effect at the next start, leaves show settings at the number running
(1) and lists processors under restart-needed.
"""

import json
import socket
import time

import sipdtest
from sipdtest import Peer, Response, Sipd, check, request, sipctl


def build(port, total, line, tcp):
    """An OPTIONS of exactly total bytes whose longest line (without its
    CRLF) is line bytes long."""
    extra = [("X-Long", "x" * (line - len("X-Long: ")))]
    msg = request("OPTIONS", port, extra=extra)
    if tcp:
        msg = msg.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP", 1)
    remaining = total - len(msg)
    check(remaining >= 16, "message base too long for %d" % total)
    pads = []
    while remaining > 410:
        pads.append(200)
        remaining -= 202
    pads += [remaining // 2 - 2, remaining - remaining // 2 - 2]
    extra += [("X-P", "a" * (n - len("X-P: "))) for n in pads]
    msg = request("OPTIONS", port, extra=extra)
    if tcp:
        msg = msg.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP", 1)
    check(len(msg) == total, "built %d bytes, not %d" % (len(msg), total))
    check(max(len(x) for x in msg.split(b"\r\n")) == line,
          "longest line is not %d" % line)
    return msg


def udp_status(port, msg):
    """The status sipd answers msg with over UDP, or None (1 s)."""
    peer = Peer()
    try:
        r = peer.ask(msg, port, timeout=1.0)
        return r.status if r is not None else None
    finally:
        peer.close()


def tcp_status(port, msg):
    """The status of the answer over a new TCP connection, or None when
    sipd closes it (or says nothing within 2 s) without answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(msg)
        data = b""
        deadline = time.monotonic() + 2
        for _ in range(100):
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data or time.monotonic() > deadline:
                break
    return Response(data).status if data else None


def settings(sipd):
    p = sipctl(sipd, "-j", "show", "settings")
    check(p.returncode == 0, "show settings: %r" % p.stderr)
    rows = json.loads(p.stdout.splitlines()[-1])["data"]
    s = {r["setting"]: r["value"] for r in rows}
    s["restart-needed"] = [r["setting"] for r in rows if r["pending"]]
    return s


def set_limits(sipd, size, line):
    for args in (("limits", "message-size", str(size)),
                 ("limits", "line", str(line))):
        p = sipctl(sipd, *args)
        check(p.returncode == 0, "%s: %r" % (" ".join(args), p.stderr))
    s = settings(sipd)
    check(s["message-size"] == size and s["line"] == line,
          "show settings after the change: %r" % s)


def expect(port, tcp_port, size, line, want):
    """Each of UDP and TCP answers an OPTIONS of size bytes with a line
    of line bytes with want (None: nothing)."""
    got = udp_status(port, build(port, size, line, False))
    check(got == want, "udp, %d bytes, %d-byte line: %r, not %r" %
          (size, line, got, want))
    got = tcp_status(tcp_port, build(tcp_port, size, line, True))
    check(got == want, "tcp, %d bytes, %d-byte line: %r, not %r" %
          (size, line, got, want))


def test(binary, started):
    tcp_port = sipdtest.free_tcp_port()
    sipd = Sipd(binary, clients=False,
                conf="limits message-size 2000\nlimits line 1000\n"
                "listener add tcp 127.0.0.1:%d" % tcp_port)
    started.append(sipd)
    sipd.start()
    port = sipd.port

    set_limits(sipd, 20000, 10000)
    expect(port, tcp_port, 19980, 900, 200)
    expect(port, tcp_port, 12000, 9980, 200)
    expect(port, tcp_port, 20020, 900, None)
    expect(port, tcp_port, 12000, 10020, None)

    set_limits(sipd, 1500, 500)
    expect(port, tcp_port, 1480, 400, 200)
    expect(port, tcp_port, 1000, 480, 200)
    expect(port, tcp_port, 1520, 400, None)
    expect(port, tcp_port, 1000, 520, None)
    p = sipctl(sipd, "set", "processors", "2")
    check(p.returncode == 0, "set processors: %r" % p.stderr)
    s = settings(sipd)
    check(s.get("processors") == 1 and
          s.get("restart-needed") == ["processors"],
          "show settings after set processors 2: processors %r, "
          "restart-needed %r" % (s.get("processors"),
                                 s.get("restart-needed")))
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
