"""What a name that leads nowhere gets (sipd.8, Requests): a name that
does not exist (NXDOMAIN from dnsmasq, authoritative for example.test)
gets 404 Not Found (no such domain), one that exists with no SIP record
(only a TXT record) 404 (no SIP server for the domain) - not 604: RFC
3263 says nothing of the user existing nowhere.  A DNS server that never
answers (a silent socket, dns timeout 200, dns tries 1) gets 503 with a
reason naming DNS, within a second.  Nothing is sent to any UAS.  Before
names were resolved, the timeout case got 404 too, at once."""

import socket
import time

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def final(uac, sipd, uri):
    c = sipua.Call(uac, uri)
    uac.send(c.request("MESSAGE"), sipd.port)
    return uac.expect(
        "a final response for %s" % uri,
        lambda m: (not m.is_request() and m.status >= 200 and
                   m.call_id() == c.call_id), 5.0)


def test(binary, started):
    uac = sipua.UA()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    records = ["--txt-record=nosip.example.test,\"not SIP\""]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started,
                conf=lambda s: "dns server %s" % dns.addr)
            r = final(uac, sipd, "sip:bob@nope.example.test")
            check(r.status == 404 and "no such domain" in r.reason,
                  "NXDOMAIN got %d %s" % (r.status, r.reason))
            check(dns.queries("nope.example.test") >= 1,
                  "no query for nope.example.test reached dnsmasq")
            r = final(uac, sipd, "sip:bob@nosip.example.test")
            check(r.status == 404 and "no SIP server" in r.reason,
                  "a name without SIP records got %d %s" %
                  (r.status, r.reason))
            p = sipdtest.sipctl(
                sipd, "dns", "server",
                "127.0.0.1:%d" % silent.getsockname()[1])
            check(p.returncode == 0, "dns server: %s" % p.stderr)
            for cmd in (("dns", "timeout", "200"), ("dns", "tries", "1")):
                p = sipdtest.sipctl(sipd, *cmd)
                check(p.returncode == 0, "%s: %s" % (cmd, p.stderr))
            sent = time.monotonic()
            r = final(uac, sipd, "sip:bob@other.example.test")
            took = time.monotonic() - sent
            check(r.status == 503 and "DNS" in r.reason,
                  "a silent DNS server got %d %s" % (r.status, r.reason))
            check(took < 2.0, "the 503 came after %.2f s" % took)
            p = sipdtest.sipctl(sipd, "dns", "server", "not-an-address")
            check(p.returncode == 1, "dns server not-an-address was taken")
    finally:
        uac.close()
        silent.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
