"""A request waiting for DNS (sipd.8, Requests): the DNS server is a
socket that never answers (dns timeout 3000, dns tries 1).  An INVITE to
sip:bob@slow.example.test gets 100 Trying at once and waits in its server
transaction: its retransmission is absorbed (100 again) and starts no
second lookup (the silent server sees one query); a MESSAGE to the UAS by
IP address meanwhile completes at once, on the same worker (the lookup
never blocks it).  A CANCEL then gets 200 and the INVITE 487 Request
Terminated at once; the UAS never sees the INVITE.  Before names were
resolved the INVITE got 404 at once."""

import socket
import time

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA("127.0.0.2")
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    silent.settimeout(0.5)
    try:
        sipd = sipua.start_proxy(
            binary, started, conf=lambda s: "dns server 127.0.0.1:%d\n"
            "dns timeout 3000\ndns tries 1" % silent.getsockname()[1])
        c = sipua.Call(uac, "sip:bob@slow.example.test")
        invite = c.request("INVITE")
        uac.send(invite, sipd.port)
        uac.expect_response(100, c, timeout=1.0)
        silent.recvfrom(4096)  # the lookup's first query
        uac.send(invite, sipd.port)
        uac.expect_response(100, c, timeout=1.0)
        more = 0
        for _ in range(5):
            try:
                silent.recvfrom(4096)
                more += 1
            except socket.timeout:
                break
        check(more == 0, "the retransmission sent %d queries more" % more)
        # same Call-ID, so the same worker, by IP address
        m = sipua.Call(uac, uas.uri("bob"), call_id=c.call_id)
        sent = time.monotonic()
        uac.send(m.request("MESSAGE"), sipd.port)
        msg = uas.expect_request("MESSAGE", c.call_id, timeout=1.0)
        uas.respond(msg, 200)
        uac.expect_response(200, m, timeout=1.0)
        check(time.monotonic() - sent < 0.5, "the MESSAGE waited for DNS")
        uac.send(c.cancel(), sipd.port)
        uac.expect_response(200, c, method="CANCEL", timeout=1.0)
        c.method = "INVITE"
        r = uac.expect_response(487, c, timeout=1.0)
        uac.send(c.ack(r), sipd.port)
        stray = [x for x in uas.collect(0.3) if x.is_request() and
                 x.method != "MESSAGE"]
        check(stray == [], "the UAS got %s" % stray)
    finally:
        uac.close()
        uas.close()
        silent.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
