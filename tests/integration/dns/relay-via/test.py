"""`set relay-via` naming a host (sipd.conf.5, Router), resolved by RFC
3263 through a real dnsmasq, checked on the UAs' sockets:

- `set relay-via proxy.example.test` (no port: SRV, RFC 3263 4.2, to
  relay.example.test = 127.0.0.4 on the relay UAS's port): a MESSAGE to
  bob@far.invalid reaches the relay UAS with its Request-URI unchanged;
  dnsmasq saw the SRV query for proxy.example.test and none for
  far.invalid; a second MESSAGE reaches it too with no new query (the
  cache);
- `set relay-via other.example.test:PORT` (a port: A only, 127.0.0.5):
  the MESSAGE reaches the second relay UAS, and no SRV query was made
  for the name;
- an IP literal still goes straight to its UAS (relay-via is not used for
  explicitly routed addresses);
- `set relay-via nothing.example.test` (NXDOMAIN): the MESSAGE gets 404
  and no UAS receives anything.
Before relay-via took host names, `set relay-via proxy.example.test` was
refused and sipd did not start on this configuration."""

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def final(uac, call):
    return uac.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def reaches(sipd, uac, uri, ua):
    call = sipua.Call(uac, uri)
    uac.send(call.request("MESSAGE"), sipd.port)
    msg = ua.expect_request("MESSAGE", call.call_id, timeout=5.0)
    check(msg.uri == uri, "%s arrived as %s" % (uri, msg.uri))
    ua.respond(msg, 200)
    uac.expect_response(200, call)


def set_via(sipd, value):
    p = sipdtest.sipctl(sipd, "set", "relay-via", value)
    check(p.returncode == 0, "set relay-via %s: %s" % (value, p.stderr))


def test(binary, started):
    uac = sipua.UA()
    uas = sipua.UA("127.0.0.2")
    relay, other = sipua.UA("127.0.0.4"), sipua.UA("127.0.0.5")
    records = [
        "--srv-host=_sip._udp.proxy.example.test,relay.example.test,%d,10,0"
        % relay.port,
        "--host-record=relay.example.test,127.0.0.4",
        "--host-record=other.example.test,127.0.0.5",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started, conf=lambda s: (
                    "domain add example.com\n"
                    "dns server %s\ndns timeout 500\n"
                    "set relay-via proxy.example.test\n" % dns.addr))
            reaches(sipd, uac, "sip:bob@far.invalid", relay)
            check(dns.queries("_sip._udp.proxy.example.test", "SRV") >= 1,
                  "no SRV query for proxy.example.test:\n%s" % dns.log())
            check(dns.queries("far.invalid") == 0,
                  "far.invalid was looked up:\n%s" % dns.log())
            before = dns.queries()
            reaches(sipd, uac, "sip:carol@far.invalid", relay)
            check(dns.queries() == before, "the second MESSAGE asked DNS "
                  "again:\n%s" % dns.log())

            set_via(sipd, "other.example.test:%d" % other.port)
            reaches(sipd, uac, "sip:bob@far.invalid", other)
            check(dns.queries("_sip._udp.other.example.test") == 0,
                  "SRV asked for a relay-via with a port:\n%s" % dns.log())
            reaches(sipd, uac, "sip:bob@127.0.0.2:%d" % uas.port, uas)

            set_via(sipd, "nothing.example.test")
            call = sipua.Call(uac, "sip:bob@far.invalid")
            uac.send(call.request("MESSAGE"), sipd.port)
            resp = final(uac, call)
            check(resp.status == 404, "a relay-via that does not exist: "
                  "%d, not 404" % resp.status)
            stray = [m for ua in (relay, other, uas)
                     for m in ua.collect(0.2) if m.is_request()]
            check(stray == [], "a UAS received %s" % stray)
    finally:
        for ua in (uac, uas, relay, other):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
