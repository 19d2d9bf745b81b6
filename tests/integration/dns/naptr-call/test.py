"""RFC 3263 end to end: sipd resolves sip:bob@example.test through a real
dnsmasq (NAPTR SIP+D2U -> SRV _sip._udp -> A of a.example.test, which is
127.0.0.2) and the INVITE reaches the UAS listening there on the SRV's
port; its 200 comes back to the UAC by Via, and the ACK of the 200, sent
to the name, reaches the UAS too (from the cache, stateless).  A second
call to the same name (on the same worker: each has its own cache) is
answered from the cache: it reaches the UAS and no query more reaches
dnsmasq.  A name whose first SRV target has only an IPv6 address
(h6.example.test, ::1) goes to its IPv4 target without trying the other:
sipd listens on IPv4 only, so it does not ask for what it cannot reach,
and show dns lists no failed target.  Without the resolver wired in,
sipd answers 404 and the UAS sees nothing."""

import json

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def call(uac, uas, sipd, call_id=None):
    c = sipua.Call(uac, "sip:bob@example.test", call_id)
    uac.send(c.request("INVITE"), sipd.port)
    uac.expect_response(100, c, timeout=2.0)
    inv = uas.expect_request("INVITE", c.call_id, timeout=5.0)
    check(inv.uri == "sip:bob@example.test",
          "the Request-URI changed to %s" % inv.uri)
    sipua.check_top_via(inv, sipd, [c.branch])
    uas.respond(inv, 200)
    ok = uac.expect_response(200, c, timeout=3.0)
    check(sipua.branches(ok) == [c.branch],
          "200 came with Vias %s" % ok.get("Via"))
    # the ACK of the 2xx, to the name: relayed from the cache
    uac.send(c.request("ACK", uri="sip:bob@example.test", cseq=c.cseq,
                       to=ok.first("To")), sipd.port)
    uas.expect_request("ACK", c.call_id, timeout=3.0)
    return c


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA("127.0.0.2")
    records = [
        "--naptr-record=example.test,10,10,S,SIP+D2U,,_sip._udp.example.test",
        "--srv-host=_sip._udp.example.test,a.example.test,%d,10,0" %
        uas.port,
        "--host-record=a.example.test,127.0.0.2",
        # an IPv6 target first: sipd listens on IPv4 only
        "--srv-host=_sip._udp.six.example.test,h6.example.test,%d,10,0" %
        uas.port,
        "--srv-host=_sip._udp.six.example.test,a.example.test,%d,20,0" %
        uas.port,
        "--host-record=h6.example.test,::1",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started,
                conf=lambda s: "dns server %s" % dns.addr)
            first = call(uac, uas, sipd)
            check(dns.queries("example.test", "NAPTR") == 1,
                  "NAPTR queries: %d" % dns.queries("example.test", "NAPTR"))
            before = dns.queries()
            # the same Call-ID: the same worker, whose cache it is
            call(uac, uas, sipd, first.call_id)
            check(dns.queries() == before,
                  "the second call sent %d queries, not none (cache)" %
                  (dns.queries() - before))
            c = sipua.Call(uac, "sip:bob@six.example.test")
            uac.send(c.request("MESSAGE"), sipd.port)
            msg = uas.expect_request("MESSAGE", c.call_id, timeout=5.0)
            uas.respond(msg, 200)
            uac.expect_response(200, c, timeout=3.0)
            p = sipdtest.sipctl(sipd, "-j", "show", "dns")
            failed = [r for r in json.loads(p.stdout)["data"]
                      if r["kind"] == "failed"]
            check(failed == [], "a target sipd cannot send to was tried "
                  "and failed: %s" % failed)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
