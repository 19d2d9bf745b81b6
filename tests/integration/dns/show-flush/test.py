"""`show dns` and `dns flush` (sipctl.8) against a cache filled by a real
call: after a MESSAGE to sip:bob@srv.example.test (SRV _sip._udp ->
A 127.0.0.2, the UAS there), `sipctl -j show dns` lists the SRV and A
entries with their records and a TTL left of at most the records' 60 s;
`dns flush` reports the entries it dropped and `show dns` is then empty;
the next MESSAGE to the name queries dnsmasq again (the cache really was
emptied).  `show stats` counts the two lookups and the queries they
sent.  `show dns 7` on a sipd with fewer workers is an error."""

import json

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def message(uac, uas, sipd):
    c = sipua.Call(uac, "sip:bob@srv.example.test")
    uac.send(c.request("MESSAGE"), sipd.port)
    msg = uas.expect_request("MESSAGE", c.call_id, timeout=5.0)
    uas.respond(msg, 200)
    uac.expect_response(200, c, timeout=3.0)


def show(sipd):
    p = sipdtest.sipctl(sipd, "-j", "show", "dns")
    check(p.returncode == 0, "show dns: %s" % p.stderr)
    return json.loads(p.stdout)["data"]


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA("127.0.0.2")
    records = [
        "--srv-host=_sip._udp.srv.example.test,a.example.test,%d,10,0" %
        uas.port,
        "--host-record=a.example.test,127.0.0.2",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started,
                conf=lambda s: "dns server %s" % dns.addr)
            message(uac, uas, sipd)
            rows = show(sipd)
            cache = {(r["name"], r["type"]): r for r in rows
                     if r["kind"] == "cache"}
            srv = cache.get(("_sip._udp.srv.example.test", "SRV"))
            check(srv is not None and srv["state"] == "ok" and
                  "%d a.example.test" % uas.port in srv["records"],
                  "no SRV entry in show dns: %s" % rows)
            a = cache.get(("a.example.test", "A"))
            check(a is not None and a["records"] == "127.0.0.2" and
                  0 < a["ttl"] <= 60, "no A entry in show dns: %s" % rows)
            p = sipdtest.sipctl(sipd, "-j", "dns", "flush")
            check(p.returncode == 0, "dns flush: %s" % p.stderr)
            flushed = json.loads(p.stdout)["data"]["flushed"]
            check(flushed >= 2, "dns flush dropped %d entries" % flushed)
            rows = [r for r in show(sipd) if r["state"] != "pending"]
            check(rows == [], "show dns after dns flush: %s" % rows)
            before = dns.queries("a.example.test", "A")
            message(uac, uas, sipd)
            check(dns.queries("a.example.test", "A") == before + 1,
                  "after dns flush the A record was not asked again")
            p = sipdtest.sipctl(sipd, "-j", "show", "stats")
            st = json.loads(p.stdout)["data"]
            check(st["dns-resolves"] == 2 and st["dns-queries"] >= 3 and
                  st["dns-cache-entries"] >= 2,
                  "show stats: %s" % {k: v for k, v in st.items()
                                      if k.startswith("dns-")})
            p = sipdtest.sipctl(sipd, "show", "dns", "7")
            check(p.returncode == 1 and "no worker 7" in p.stderr,
                  "show dns 7: %d %s" % (p.returncode, p.stderr))
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
