"""TLS peers that stall the handshake (RFC 3261 26.3.1 listeners): 30
connections to sipd's TLS port that send nothing, and 30 that send the
first bytes of a ClientHello and stop.  While they hang, a real TLS
client handshakes, asks OPTIONS and gets its 200 within a second, and a
call over UDP completes.  sipd closes every stalled connection once
"set first-message-timeout" (2 s here) has passed.  Skipped without
openssl (failed under CI)."""

import shutil
import socket
import ssl
import tempfile
import time

import faultlib
import sipdtest
import sipua
from sipdtest import Skip, check, new_tag

HELLO_START = bytes.fromhex("160301020001") + b"\x00\x01\xfc\x03\x03"


def tls_options(sipd, cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert)
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", sipd.tls_port), timeout=5)
    with ctx.wrap_socket(raw) as s:
        port = s.getsockname()[1]
        s.sendall(("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK%s\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=%s\r\n"
                   "To: <sip:ping@127.0.0.1>\r\nCall-ID: %s@stall\r\n"
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (
                       sipd.tls_port, port, new_tag(), new_tag(),
                       new_tag())).encode())
        buf = b""
        deadline = time.monotonic() + 5
        data = None
        while data is None and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            data, _ = sipua.frame(buf)
        return data


def closed_by_sipd(s, timeout):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test(binary, started):
    if shutil.which("openssl") is None:
        raise Skip("openssl not installed")
    sipdtest.sipctl_binary()
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as work:
        cert, key = sipua.self_signed(work)
        sipd = sipua.start_proxy(
            binary, started, tls=(cert, key),
            conf=lambda s: "set force-rr on\nset first-message-timeout 2")
        stalled = []
        try:
            for i in range(60):
                s = socket.create_connection(("127.0.0.1", sipd.tls_port),
                                             timeout=5)
                if i % 2:
                    s.sendall(HELLO_START)
                stalled.append(s)
            t0 = time.monotonic()
            data = tls_options(sipd, cert)
            took = time.monotonic() - t0
            print("60 stalled handshakes; a real client's OPTIONS answered "
                  "in %.3f s" % took)
            check(data is not None and data.startswith(b"SIP/2.0 200"),
                  "no 200 over TLS while handshakes stall: %r" % data)
            check(took < 1.0, "the real client waited %.2f s" % took)
            faultlib.call(sipd)
            t0 = time.monotonic()
            gone = [closed_by_sipd(s, max(0.1, 6 - (time.monotonic() - t0)))
                    for s in stalled]
            print("%d of 60 stalled connections closed by sipd after "
                  "%.1f s" % (sum(gone), time.monotonic() - t0))
            check(all(gone), "%d stalled connections still open after "
                  "first-message-timeout" % gone.count(False))
        finally:
            for s in stalled:
                s.close()
        check(sipd.alive(), "sipd died")
        sipdtest.stop_clean(sipd)


sipdtest.run(test)
