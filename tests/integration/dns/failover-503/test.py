"""RFC 3263 4.3, a 503: sip:bob@f.example.test has two SRV targets,
priority 10 at 127.0.0.2 (a UAS that answers 503) and priority 20 at
127.0.0.3 (one that answers 200).  The INVITE reaches the first, whose
503 sipd ACKs and keeps to itself; the same INVITE then reaches the
second in a new client transaction (another branch of sipd's), and the
UAC gets that 200, never the 503.  `show dns` then lists the first
target as avoided, for at most `dns blacklist` seconds.  Without the
failover the UAC gets 500 (RFC 3261 16.7 step 6: the 503 is not passed
on) and the second UAS nothing."""

import json

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac = sipua.UA()
    first, second = sipua.UA("127.0.0.2"), sipua.UA("127.0.0.3")
    records = [
        "--srv-host=_sip._udp.f.example.test,a.example.test,%d,10,0" %
        first.port,
        "--srv-host=_sip._udp.f.example.test,b.example.test,%d,20,0" %
        second.port,
        "--host-record=a.example.test,127.0.0.2",
        "--host-record=b.example.test,127.0.0.3",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started, conf=lambda s: "dns server %s\n"
                "dns blacklist 30" % dns.addr)
            c = sipua.Call(uac, "sip:bob@f.example.test")
            uac.send(c.request("INVITE"), sipd.port)
            inv1 = first.expect_request("INVITE", c.call_id, timeout=5.0)
            first.respond(inv1, 503)
            ack = first.expect_request("ACK", c.call_id, timeout=2.0)
            check(ack.branch() == inv1.branch(),
                  "the ACK of the 503 is not in its transaction")
            inv2 = second.expect_request("INVITE", c.call_id, timeout=3.0)
            check(inv2.branch() != inv1.branch(),
                  "the retry kept the branch %s" % inv1.branch())
            check(inv2.branch(1) == c.branch,
                  "the retry lost the UAC's Via: %s" % inv2.get("Via"))
            second.respond(inv2, 200)
            uac.expect_response(200, c, timeout=3.0)
            bad = [m for m in uac.seen if not m.is_request() and
                   m.status >= 300]
            check(bad == [], "the UAC got %s" % bad)
            p = sipdtest.sipctl(sipd, "-j", "show", "dns")
            rows = json.loads(p.stdout)["data"]
            failed = [r for r in rows if r["kind"] == "failed"]
            check(len(failed) == 1 and failed[0]["name"] ==
                  "udp 127.0.0.2:%d" % first.port and
                  0 < failed[0]["ttl"] <= 30,
                  "show dns lists as failed: %s" % failed)
    finally:
        uac.close()
        first.close()
        second.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
