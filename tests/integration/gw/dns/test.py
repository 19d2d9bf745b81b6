"""A gateway named by its domain alone, found by RFC 3263 through a real
dnsmasq (NAPTR SIP+D2U -> SRV _sip._udp -> A of sip.example.test,
127.0.0.2, the provider's port): the provider stand-in (sipp,
provider.xml, Digest on REGISTER and INVITE) gets the REGISTER with
Request-URI sip:example.test and registers it; `show gateways` names the
target found; a client's call for 95551234@example.com reaches the
provider as sip:5551234@example.test with credentials from the
REGISTER's nonce, and is answered.
The old sipd knows no gateways: the configuration does not load."""

import os
import sys
import tempfile

import dnsmasq
import sipdtest
import sipua
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import check  # noqa: E402


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-dns-")
    prov = gwlib.Provider(work.name, "provider", "provider.xml", 10,
                          sets=(("gwuser", "gwuser"),
                                ("gwpass", "gwpass"), ("expires", 60)))
    ua = sipua.UA("127.0.0.1")
    records = [
        "--naptr-record=example.test,10,10,S,SIP+D2U,,_sip._udp.example.test",
        "--srv-host=_sip._udp.example.test,sip.example.test,%d,10,0" %
        prov.port,
        "--host-record=sip.example.test,127.0.0.2",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipdtest.Sipd(binary, conf=(
                "dns server %s\n"
                "domain add example.com\n"
                "account add alice@example.com password a\n"
                "gateway add A domain example.test username gwuser "
                "password gwpass register-every 60 calls-authenticate on\n"
                "router add NoRelay:Signal:<9*> = *@A.sipgw\n" % dns.addr))
            started.append(sipd)
            sipd.start()
            row = gwlib.wait_state(sipd, "A", ("registered",), 8)
            check(row["target"] == "udp 127.0.0.2:%d" % prov.port,
                  "target %s" % row["target"])
            reg = prov.received("REGISTER")[0]
            check(reg.uri == "sip:example.test", "REGISTER to %s" % reg.uri)
            check(dns.queries("example.test", "NAPTR") >= 1,
                  "no NAPTR query reached dnsmasq")
            c = sipua.Call(ua, "sip:95551234@example.com")
            ua.send(c.request("INVITE"), sipd.port)
            r = ua.expect("a final response", lambda m: (
                not m.is_request() and m.status >= 200 and
                m.call_id() == c.call_id), 8.0)
            check(r.status == 200, "the call got %d" % r.status)
            inv = prov.received("INVITE")[0]
            check(inv.uri == "sip:5551234@example.test" and
                  inv.first("Authorization"), "the provider got %s %s" %
                  (inv.uri, inv.first("Authorization")))
            ua.send(c.ack(r), sipd.port)
            sipdtest.stop_clean(sipd)
    finally:
        prov.stop()
        ua.close()


sipdtest.run(test)
