"""set relay-via (sipd.conf.5, Router), checked on the UAs' sockets:

- off (the default): a MESSAGE to bob@far.example goes to DNS (here a
  server that never answers: a failure) and the relay UAS receives
  nothing;
- on (`set relay-via 127.0.0.4:PORT`): the same MESSAGE reaches the relay
  UAS with its Request-URI unchanged;
- on, an IP literal (bob@127.0.0.2:PORT) still goes straight to the UAS,
  and a domain a Router record names (`named.example =
  127.0.0.2:PORT`) too: explicitly routed addresses skip relay-via;
- a local domain never goes to relay-via (alice@example.com: 404, no
  such account);
- set back to none, far.example fails again; a bad value (a bad host
  name, port 0, IPv4 in brackets) is refused (a host name is taken:
  tests/integration/dns/relay-via).
Without relay-via the setting is unknown and sipd refuses it."""

import sipdtest
import sipua
from sipdtest import check


def final(uac, call):
    return uac.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def refused(sipd, uac, uri, relay, status=404):
    """status None: any failure (a name that resolves nowhere)."""
    call = sipua.Call(uac, uri)
    uac.send(call.request("MESSAGE"), sipd.port)
    resp = final(uac, call)
    check(resp.status == status if status else resp.status >= 400,
          "%s got %d, not %s" % (uri, resp.status, status or "a failure"))
    stray = [m for m in relay.collect(0.3) if m.is_request()]
    check(stray == [], "%s reached the relay: %s" % (uri, stray))


def reaches(sipd, uac, uri, ua, want=None):
    call = sipua.Call(uac, uri)
    uac.send(call.request("MESSAGE"), sipd.port)
    msg = ua.expect_request("MESSAGE", call.call_id)
    check(msg.uri == (want or uri), "%s arrived as %s" % (uri, msg.uri))
    ua.respond(msg, 200)
    uac.expect_response(200, call)


def test(binary, started):
    uac = sipua.UA()
    uas = sipua.UA("127.0.0.2")
    relay = sipua.UA("127.0.0.4")
    try:
        sipd = sipua.start_proxy(binary, started, conf=lambda s: (
            "domain add example.com\n"
            "dns server 127.0.0.1:9\ndns timeout 100\ndns tries 1\n"
            "router add named.example = 127.0.0.2:%d\n" % uas.port))
        refused(sipd, uac, "sip:bob@far.example", relay, None)
        p = sipdtest.sipctl(sipd, "set", "relay-via",
                            "127.0.0.4:%d" % relay.port)
        check(p.returncode == 0, "set relay-via: %s" % p.stderr)
        reaches(sipd, uac, "sip:bob@far.example", relay)
        reaches(sipd, uac, "sip:bob@127.0.0.2:%d" % uas.port, uas)
        reaches(sipd, uac, "sip:bob@named.example", uas,
                "sip:bob@127.0.0.2:%d" % uas.port)
        refused(sipd, uac, "sip:alice@example.com", relay)
        for bad in ("bad!host", "proxy.example:0", "[127.0.0.4]"):
            p = sipdtest.sipctl(sipd, "set", "relay-via", bad)
            check(p.returncode == 1 and "bad relay-via" in p.stderr,
                  "set relay-via %s: %d %s" % (bad, p.returncode, p.stderr))
        p = sipdtest.sipctl(sipd, "set", "relay-via", "none")
        check(p.returncode == 0, "set relay-via none: %s" % p.stderr)
        refused(sipd, uac, "sip:bob@far.example", relay, None)
    finally:
        for ua in (uac, uas, relay):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
