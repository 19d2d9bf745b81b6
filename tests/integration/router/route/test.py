"""The Router applies to the first Route entry, once sipd's own are gone
(sipd.conf.5, Router), checked on the UAs' sockets.  Records
`edge.test = 127.0.0.2:PORT` and `<help> = alice`, a DNS server that
never answers (a name left to DNS fails):

- a MESSAGE to bob@far.test with Route <sip:edge.test;lr> reaches the UAS
  at 127.0.0.2:PORT, its Request-URI unchanged and its Route entry the
  rewritten <sip:127.0.0.2:PORT;lr>;
- the same with sipd's own entry on top of the Route set (Route
  <sip:SIPD;lr>, <sip:edge.test;lr>): sipd's goes, edge.test is routed;
- the URI's parameters and the entry's header parameters are kept: <sip:edge.test;lr;foo=1>;hp=2 arrives as
  <sip:127.0.0.2:PORT;lr;foo=1>;hp=2, and a second entry on the same line
  is kept as written;
- in a dialog (a To tag) the route set is the dialog's: the same Route
  is not routed, goes to DNS and fails; the UAS receives nothing;
- the Request-URI is not routed when a Route is present: help@example.com
  with Route <sip:edge.test;lr> reaches the UAS as help@example.com.
Before the Router applied to Route entries, each of the first three went
to DNS and failed, and nothing reached the UAS."""

import sipdtest
import sipua
from sipdtest import check


def final(uac, call):
    return uac.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def test(binary, started):
    uac = sipua.UA()
    uas = sipua.UA("127.0.0.2")
    try:
        sipd = sipua.start_proxy(binary, started, conf=lambda s: (
            "domain add example.com\n"
            "account add alice@example.com password alice-pw\n"
            "dns server 127.0.0.1:9\ndns timeout 100\ndns tries 1\n"
            "router add edge.test = 127.0.0.2:%d\n"
            "router add Signal:<help> = alice\n" % uas.port))
        edge = "<sip:127.0.0.2:%d;lr>" % uas.port
        own = "<sip:127.0.0.1:%d;lr>" % sipd.port
        cases = [
            ("sip:bob@far.test", ["<sip:edge.test;lr>"], [edge]),
            ("sip:bob@far.test", [own, "<sip:edge.test;lr>"], [edge]),
            ("sip:bob@far.test",
             ["<sip:edge.test;lr;foo=1>;hp=2, <sip:next.test;lr>"],
             ["<sip:127.0.0.2:%d;lr;foo=1>;hp=2" % uas.port,
              "<sip:next.test;lr>"]),
            ("sip:help@example.com", ["<sip:edge.test;lr>"], [edge]),
        ]
        for uri, routes, want in cases:
            call = sipua.Call(uac, uri)
            extra = [("Route", r) for r in routes]
            uac.send(call.request("MESSAGE", extra=extra), sipd.port)
            msg = uas.expect_request("MESSAGE", call.call_id)
            check(msg.uri == uri, "MESSAGE to %s with Route %s arrived as "
                  "%s" % (uri, routes, msg.uri))
            got = msg.get("Route")
            check(got == want, "MESSAGE with Route %s arrived with Route "
                  "%s, not %s" % (routes, got, want))
            uas.respond(msg, 200)
            uac.expect_response(200, call)

        # in a dialog: the route set is the dialog's, not routed
        call = sipua.Call(uac, "sip:bob@far.test")
        call.to = "<sip:bob@far.test>;tag=%s" % sipdtest.new_tag()
        uac.send(call.request("MESSAGE", extra=[
            ("Route", "<sip:edge.test;lr>")]), sipd.port)
        resp = final(uac, call)
        check(resp.status >= 400, "an in-dialog MESSAGE to edge.test got "
              "%d, not a failure" % resp.status)
        stray = [m for m in uas.collect(0.3) if m.is_request()]
        check(stray == [], "an in-dialog Route was routed: %s" % stray)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
