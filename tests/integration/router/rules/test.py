"""The SIP routing rules after the Router (sipd.conf.5, Router), checked
on the UAs' sockets:

- `%`: sip:bob%25partner.test@example.com (the user part unescaped:
  bob%partner.test, main domain example.com) is
  bob@partner.test, which `partner.test = 127.0.0.2:PORT` sends to the
  UAS as sip:bob@127.0.0.2:PORT;
- the size limit on the final pass: a 2000-byte MESSAGE to
  big@partner.test goes over TCP to the same port;
- `.tcp`: sip:bob@127.0.0.2.tcp:PORT reaches the TCP UAS over TCP as
  sip:bob@127.0.0.2:PORT;transport=tcp, with sipd's TCP Via; nothing
  comes over UDP;
- `.sipgw`: 12125551234@example.com with `NoRelay:Signal:<1*> =
  *@Provider1.sipgw` gets 404 "no gateway Provider1";
- a loop (<a> = b, <b> = a) gets 482, and sipd goes on answering;
- a record naming an address with more rewrites than fit gets an answer,
  never a crash.
Without the Router table the configuration is refused."""

import sipdtest
import sipua
from sipdtest import check


def final(uac, call):
    return uac.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == call.call_id), 5.0)


def udp_and_tcp():
    for _ in range(50):
        uas = sipua.UA("127.0.0.2")
        if sipua.tcp_free(uas.port, "127.0.0.2"):
            try:
                return uas, sipua.StreamUA("127.0.0.2", port=uas.port)
            except OSError:
                pass
        uas.close()
    raise sipdtest.Fail("no port free for UDP and TCP")


def test(binary, started):
    uac = sipua.UA()
    uas, tcp_uas = udp_and_tcp()
    try:
        sipd = sipua.start_proxy(binary, started, tcp=True, conf=lambda s: (
            "domain add example.com\n"
            "router add partner.test = 127.0.0.2:%d\n"
            "router add NoRelay:Signal:<1*> = *@Provider1.sipgw\n"
            "router add <a> = b\nrouter add <b> = a\n"
            "router add <x*> = x**\n"
            "set size-limit-lan 1300\nset size-limit-wan 1300\n" % uas.port))

        call = sipua.Call(uac, "sip:bob%25partner.test@example.com")
        uac.send(call.request("MESSAGE"), sipd.port)
        msg = uas.expect_request("MESSAGE", call.call_id)
        want = "sip:bob@127.0.0.2:%d" % uas.port
        check(msg.uri == want, "bob%%partner.test@example.com reached the "
              "UAS as %s, not %s" % (msg.uri, want))
        uas.respond(msg, 200)
        uac.expect_response(200, call)

        # the size limit holds on the final pass: a 2000-byte MESSAGE
        # routed by a record to a UDP target goes over TCP (RFC 3261
        # 18.1.1, set size-limit-lan/wan 1300)
        call = sipua.Call(uac, "sip:big@partner.test")
        body = b"x" * 2000
        data = call.request("MESSAGE").replace(
            b"Content-Length: 0\r\n\r\n",
            b"Content-Type: text/plain\r\nContent-Length: 2000\r\n\r\n")
        uac.send(data + body, sipd.port)
        msg = tcp_uas.expect_request("MESSAGE", call.call_id)
        check(msg.body == body, "the big MESSAGE's body changed")
        sipua.check_top_via(msg, sipd, [call.branch], "TCP")
        tcp_uas.respond(msg, 200)
        uac.expect_response(200, call)

        call = sipua.Call(uac, "sip:bob@127.0.0.2.tcp:%d" % tcp_uas.port)
        uac.send(call.request("MESSAGE"), sipd.port)
        msg = tcp_uas.expect_request("MESSAGE", call.call_id)
        want = "sip:bob@127.0.0.2:%d;transport=tcp" % tcp_uas.port
        check(msg.uri == want, ".tcp reached the UAS as %s, not %s" % (
            msg.uri, want))
        sipua.check_top_via(msg, sipd, [call.branch], "TCP")
        stray = [m for m in uas.collect(0.2) if m.is_request()]
        check(stray == [], ".tcp came over UDP too: %s" % stray)
        tcp_uas.respond(msg, 200)
        uac.expect_response(200, call)

        call = sipua.Call(uac, "sip:12125551234@example.com")
        uac.send(call.request("MESSAGE"), sipd.port)
        resp = final(uac, call)
        check(resp.status == 404 and "no gateway Provider1" in resp.start,
              "a Provider1.sipgw number got %r, not 404 no gateway "
              "Provider1" % resp.start)

        for uri, status in (("sip:a@example.com", 482),
                            ("sip:xy@example.com", 404)):
            call = sipua.Call(uac, uri)
            uac.send(call.request("MESSAGE"), sipd.port)
            resp = final(uac, call)
            check(resp.status == status, "%s got %d, not %d" % (
                uri, resp.status, status))
        stray = [m for m in uas.collect(0.2) + tcp_uas.collect(0.1)
                 if m.is_request()]
        check(stray == [], "sent on anyway: %s" % stray)
        call = sipua.Call(uac, "sip:127.0.0.1:%d" % sipd.port)
        uac.send(call.request("OPTIONS"), sipd.port)
        uac.expect_response(200, call)
    finally:
        for ua in (uac, uas, tcp_uas):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
