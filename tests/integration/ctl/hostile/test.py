"""Hostile control clients: bytes that are not msgpack, msgpack that is
not a map, a map without id, an unknown command, arguments of the wrong
type, an oversized frame (refused from its header, before the body is
sent) and a client that sends requests but never reads replies (dropped
once its output is bounded).  Each gets an error reply or a closed
connection and a log line; meanwhile sipd keeps answering OPTIONS and
sipctl."""

import socket
import struct
import threading
import time

import msgpack

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl


def connect(sipd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sipd.sock_path)
    hello = recv_frame(s)
    check(hello["id"] == 0 and hello["ev"] == "hello" and
          hello["data"]["proto"] == 1, "greeting %r" % hello)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_frame(s):
    hdr = recv_exact(s, 4)
    if hdr is None:
        return None
    (n,) = struct.unpack(">I", hdr)
    body = recv_exact(s, n)
    return None if body is None else msgpack.unpackb(body, raw=False)


def send_body(s, body):
    s.sendall(struct.pack(">I", len(body)) + body)


def expect_error(s, body, code, what):
    send_body(s, body)
    r = recv_frame(s)
    check(r is not None and r.get("ok") is False and
          r["err"]["code"] == code, "%s: %r" % (what, r))
    return r


def options_ok(sipd):
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", sipd.port), sipd.port)
        return r is not None and r.status == 200
    finally:
        peer.close()


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()

    s = connect(sipd)
    expect_error(s, b"\xc1garbage", "invalid", "not msgpack")
    expect_error(s, msgpack.packb([1, 2, 3]), "invalid", "not a map")
    expect_error(s, msgpack.packb({"cmd": "status"}), "invalid", "no id")
    r = expect_error(s, msgpack.packb({"id": 7, "cmd": "frobnicate"}),
                     "invalid", "unknown command")
    check(r["id"] == 7, "error id %r" % r)
    expect_error(s, msgpack.packb({"id": 8, "cmd": "set t1",
                                   "args": {"ms": "600"}}),
                 "invalid", "string for a number")
    expect_error(s, msgpack.packb({"id": 9, "cmd": "set t1",
                                   "args": {"ms": 600, "x": 1}}),
                 "invalid", "unknown argument")
    expect_error(s, msgpack.packb({"id": 10, "cmd": "set t1",
                                   "args": {"ms": 5}}),
                 "invalid", "out of range")
    expect_error(s, msgpack.packb({"id": 11, "cmd": "help"}),
                 "invalid", "a sipctl-only command")
    expect_error(s, msgpack.packb({"id": 12, "cmd": "status"}) + b"\x00",
                 "invalid", "trailing bytes")
    # the connection is still in step: a good request works
    send_body(s, msgpack.packb({"id": 13, "cmd": "version"}))
    r = recv_frame(s)
    check(r["id"] == 13 and r["ok"] is True, "after errors: %r" % r)

    # oversized: refused from the header, connection closed
    s.sendall(struct.pack(">I", 0x7fffffff))
    r = recv_frame(s)
    check(r is None or (r["ok"] is False and r["err"]["code"] == "too-big"),
          "oversized: %r" % r)
    if r is not None:
        check(recv_frame(s) is None, "still open after an oversized frame")
    s.close()
    check(sipd.wait_log("refused (at most"), "no log line for too big")

    # a client that never reads: dropped, sipd unharmed
    s = connect(sipd)
    req = b"".join(struct.pack(">I", len(b)) + b for b in
                   [msgpack.packb({"id": i + 1, "cmd": "show settings"})
                    for i in range(200)])
    s.settimeout(0.5)
    sent = 0
    deadline = time.monotonic() + 20
    dropped = False
    while time.monotonic() < deadline:
        try:
            s.sendall(req)
            sent += 200
        except socket.timeout:
            # sipd stopped reading us: it must have dropped us by now
            pass
        except OSError:
            dropped = True
            break
        if sipd.wait_log("(not reading", 0.01):
            dropped = True
            break
        check(options_ok(sipd) if sent % 4000 == 0 else True,
              "no OPTIONS answer under a flood")
    s.close()
    check(dropped and sipd.wait_log("(not reading", 2),
          "the client that never reads was not dropped (%d sent)" % sent)

    check(options_ok(sipd), "OPTIONS unanswered after the hostile clients")
    p = sipctl(sipd, "status")
    check(p.returncode == 0, "sipctl after the hostile clients: %r" %
          p.stderr)
    check(sipd.wait_log("bad frame from uid"), "no log for bad frames")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
