"""RFC 3263 4.3, a closed target: the NAPTR records of c.example.test
prefer TCP (SIP+D2T, _sip._tcp -> 127.0.0.2, a port where nothing
listens) to UDP (SIP+D2U, _sip._udp -> 127.0.0.3, a UAS).  The refused
connection is a transport error: the INVITE goes on to the UAS at once,
long before Timer B, and its 200 reaches the UAC.  The same over UDP:
u.example.test's SRV records name a closed UDP port at 127.0.0.4 first;
the ICMP port unreachable is a transport error too.  Without the
failover the UAC gets 500 (the 503 of the transport error is not passed
on) and the UAS nothing; without the ICMP read, the UDP case waits for
Timer B (32 s)."""

import time

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA("127.0.0.3")
    closed = sipua.free_port("127.0.0.2")
    closed_udp = sipdtest.free_udp_port("127.0.0.4")
    records = [
        "--naptr-record=c.example.test,10,10,S,SIP+D2T,,"
        "_sip._tcp.c.example.test",
        "--naptr-record=c.example.test,10,20,S,SIP+D2U,,"
        "_sip._udp.c.example.test",
        "--srv-host=_sip._tcp.c.example.test,a.example.test,%d,10,0" %
        closed,
        "--srv-host=_sip._udp.c.example.test,b.example.test,%d,10,0" %
        uas.port,
        "--srv-host=_sip._udp.u.example.test,d.example.test,%d,10,0" %
        closed_udp,
        "--srv-host=_sip._udp.u.example.test,b.example.test,%d,20,0" %
        uas.port,
        "--host-record=a.example.test,127.0.0.2",
        "--host-record=b.example.test,127.0.0.3",
        "--host-record=d.example.test,127.0.0.4",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started, tcp=True,
                conf=lambda s: "dns server %s" % dns.addr)
            c = sipua.Call(uac, "sip:bob@c.example.test")
            sent = time.monotonic()
            uac.send(c.request("INVITE"), sipd.port)
            inv = uas.expect_request("INVITE", c.call_id, timeout=5.0)
            took = time.monotonic() - sent
            check(took < 3.0, "the UAS got the INVITE after %.2f s" % took)
            uas.respond(inv, 200)
            uac.expect_response(200, c, timeout=3.0)
            bad = [m for m in uac.seen if not m.is_request() and
                   m.status >= 300]
            check(bad == [], "the UAC got %s" % bad)
            check(dns.queries("c.example.test", "NAPTR") >= 1,
                  "no NAPTR query reached dnsmasq")
            c = sipua.Call(uac, "sip:bob@u.example.test")
            sent = time.monotonic()
            uac.send(c.request("MESSAGE"), sipd.port)
            msg = uas.expect_request("MESSAGE", c.call_id, timeout=5.0)
            took = time.monotonic() - sent
            check(took < 3.0, "the UAS got the MESSAGE after %.2f s" % took)
            uas.respond(msg, 200)
            uac.expect_response(200, c, timeout=3.0)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
