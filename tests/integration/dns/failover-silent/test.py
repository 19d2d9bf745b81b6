"""RFC 3263 4.3, a silent target: sip:bob@s.example.test has two SRV
targets, priority 10 at 127.0.0.2 (a socket that never answers) and
priority 20 at 127.0.0.3 (a UAS).  With set timer-b 1000 the INVITE goes
to the first, and about 1 s later (Timer B bounds the try) to the second,
whose 200 reaches the UAC.  The first target is then avoided (dns
blacklist): a MESSAGE to the name goes straight to the second.  After
dns flush and with dns blacklist 0, a MESSAGE tries the first again and
moves on when Timer F (64*T1, T1 20 ms) expires.  Without the failover
the UAC gets 408 and the second target nothing."""

import time

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def message(uac, sipd, second, silent):
    c = sipua.Call(uac, "sip:bob@s.example.test")
    uac.send(c.request("MESSAGE"), sipd.port)
    msg = second.expect_request("MESSAGE", c.call_id, timeout=5.0)
    second.respond(msg, 200)
    uac.expect_response(200, c, timeout=2.0)
    return [m for m in silent.collect(0.1) if m.is_request() and
            m.call_id() == c.call_id]


def test(binary, started):
    uac = sipua.UA()
    silent, second = sipua.UA("127.0.0.2"), sipua.UA("127.0.0.3")
    records = [
        "--srv-host=_sip._udp.s.example.test,a.example.test,%d,10,0" %
        silent.port,
        "--srv-host=_sip._udp.s.example.test,b.example.test,%d,20,0" %
        second.port,
        "--host-record=a.example.test,127.0.0.2",
        "--host-record=b.example.test,127.0.0.3",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started, conf=lambda s: "dns server %s\n"
                "set timer-b 1000\nset t1 20\nset t2 100" % dns.addr)
            c = sipua.Call(uac, "sip:bob@s.example.test")
            sent = time.monotonic()
            uac.send(c.request("INVITE"), sipd.port)
            silent.expect_request("INVITE", c.call_id, timeout=5.0)
            inv = second.expect_request("INVITE", c.call_id, timeout=5.0)
            took = time.monotonic() - sent
            check(0.9 <= took < 3.0, "the retry came after %.2f s, not "
                  "after Timer B (1 s)" % took)
            second.respond(inv, 200)
            uac.expect_response(200, c, timeout=2.0)
            # the silent target is avoided now
            got = message(uac, sipd, second, silent)
            check(got == [], "the avoided target got %s" % got)
            for cmd in (("dns", "flush"), ("dns", "blacklist", "0")):
                p = sipdtest.sipctl(sipd, *cmd)
                check(p.returncode == 0, "%s: %s" % (cmd, p.stderr))
            silent.collect(0.2)
            sent = time.monotonic()
            c = sipua.Call(uac, "sip:bob@s.example.test")
            uac.send(c.request("MESSAGE"), sipd.port)
            silent.expect_request("MESSAGE", c.call_id, timeout=3.0)
            msg = second.expect_request("MESSAGE", c.call_id, timeout=5.0)
            took = time.monotonic() - sent
            check(1.2 <= took < 4.0, "the MESSAGE moved on after %.2f s, "
                  "not after Timer F (1.28 s)" % took)
            second.respond(msg, 200)
            uac.expect_response(200, c, timeout=2.0)
    finally:
        uac.close()
        silent.close()
        second.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
