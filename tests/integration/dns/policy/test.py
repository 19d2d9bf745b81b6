"""The relay policy comes before any DNS query (DESIGN.md, sipd.8): with
loopback not trusted and only 127.0.0.9 a client-ip, a stranger's INVITE
to sip:bob@example.test is challenged (407) and not one query reaches
dnsmasq (its query log stays empty), nor anything the UAS.  The same
INVITE from the client at 127.0.0.9 is resolved (NAPTR, SRV, A queries
logged) and reaches the UAS at 127.0.0.2, so the log does count queries
and the name does resolve.  Without the resolver wired in, the client's
INVITE gets 404."""

import dnsmasq
import sipdtest
import sipua
from sipdtest import Sipd, check


def final(ua, call):
    return ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def test(binary, started):
    stranger, client = sipua.UA(), sipua.UA("127.0.0.9")
    uas = sipua.UA("127.0.0.2")
    records = [
        "--naptr-record=example.test,10,10,S,SIP+D2U,,_sip._udp.example.test",
        "--srv-host=_sip._udp.example.test,a.example.test,%d,10,0" %
        uas.port,
        "--host-record=a.example.test,127.0.0.2",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = Sipd(binary, clients=False,
                        conf="dns server %s\nclient-ip add 127.0.0.9/32" %
                        dns.addr)
            started.append(sipd)
            sipd.start()
            c = sipua.Call(stranger, "sip:bob@example.test")
            stranger.send(c.request("INVITE"), sipd.port)
            r = final(stranger, c)
            check(r.status in (403, 407),
                  "the stranger's INVITE got %d" % r.status)
            check(dns.queries() == 0, "the refused INVITE sent %d DNS "
                  "queries:\n%s" % (dns.queries(), dns.log()))
            stray = [m for m in uas.collect(0.3) if m.is_request()]
            check(stray == [], "the UAS got %s" % stray)
            c = sipua.Call(client, "sip:bob@example.test")
            client.send(c.request("INVITE"), sipd.port)
            inv = uas.expect_request("INVITE", c.call_id, timeout=5.0)
            uas.respond(inv, 200)
            client.expect_response(200, c, timeout=3.0)
            check(dns.queries("example.test", "NAPTR") == 1,
                  "the client's INVITE was not resolved through dnsmasq")
    finally:
        stranger.close()
        client.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
