"""Stopping sipd with a registration whose registrar stops answering:
a registrar (a Python UDP socket on 127.0.0.2) that grants every
REGISTER with an expiry and never answers one with Expires 0.  SIGTERM
sends the Expires 0 (the registrar sees it, retransmitted) and sipd
still exits with status 0 within its stop grace (2 s), not after the
transaction's 32 s timeout: unregistering is bounded in time.
The old sipd knows no gateways: the configuration does not load."""

import socket
import threading
import time

import sipdtest
from sipdtest import check
from sipua import Msg


class Registrar:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.2", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        self.done = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        for _ in range(600):
            if self.done:
                return
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            m = Msg(data)
            if not m.is_request():
                continue
            self.seen.append(m)
            if m.first("Expires") == "0":
                continue  # never answered
            hdrs = ["Via: %s" % v for v in m.get("Via")]
            hdrs += ["From: %s" % m.first("From"),
                     "To: %s;tag=r1" % m.first("To"),
                     "Call-ID: %s" % m.call_id(),
                     "CSeq: %s" % m.first("CSeq"),
                     "Contact: %s;expires=60" % m.first("Contact"),
                     "Content-Length: 0"]
            self.sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(hdrs) +
                              "\r\n\r\n").encode(), peer)

    def stop(self):
        self.done = True
        self.thread.join(timeout=2)
        self.sock.close()


def test(binary, started):
    reg = Registrar()
    try:
        sipd = sipdtest.Sipd(binary, conf=(
            "domain add example.com\n"
            "account add alice@example.com password a\n"
            "gateway add G domain g.test via 127.0.0.2:%d username u "
            "register-every 60 contact alice\n" % reg.port))
        started.append(sipd)
        sipd.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not sipd.wait_log(
                "gateway G, registered", 0.1):
            pass
        check(sipd.wait_log("gateway G, registered"), "G not registered")
        t0 = time.monotonic()
        rc = sipd.stop()
        took = time.monotonic() - t0
        check(rc == 0, "sipd exited with %r" % rc)
        check(took < 4.0, "stopping took %.1f s" % took)
        unreg = [m for m in reg.seen if m.first("Expires") == "0"]
        check(len(unreg) >= 2, "the Expires 0 REGISTER was sent %d times, "
              "not retransmitted while waiting" % len(unreg))
    finally:
        reg.stop()


sipdtest.run(test)
