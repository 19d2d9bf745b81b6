"""Where sipd sends a request (sipd.8, "where a request goes", and the
transport choice), checked on the UAS's sockets:

- a strict router before sipd (RFC 3261 16.4): Request-URI sipd's own
  address, Route <sip:uas>: the last Route entry becomes the
  Request-URI and the request reaches the UAS without that Route;
- a request with Proxy-Require: 420 with Unsupported, nothing sent;
- a host name with no rule that does not exist in the DNS: 404 Not
  Found, nothing sent;
- with `route add * UAS`, the same request reaches the UAS;
- a sips: Request-URI goes over TLS (RFC 3261 26.2.2), with sipd's TLS
  Via;
- a request larger than set size-limit-lan goes over TCP to a UDP
  target (RFC 3261 18.1.1), with sipd's TCP Via; a small one over UDP.
Skipped (failed under CI) without openssl or dnsmasq."""

import ssl
import tempfile

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


def final(uac, call, what):
    return uac.expect(
        "a final response to %s" % what,
        lambda m: (not m.is_request() and m.status >= 200 and
                   m.call_id() == call.call_id), 5.0)


def strict_router(sipd, uac, uas):
    target = uas.uri("bob")
    call = sipua.Call(uac, target)
    data = call.request(
        "MESSAGE", uri="sip:127.0.0.1:%d" % sipd.port,
        extra=[("Route", "<%s>" % target)])
    uac.send(data, sipd.port)
    msg = uas.expect_request("MESSAGE", call.call_id)
    check(msg.uri == target, "strict-routed MESSAGE reached the UAS for "
          "%s, not the last Route entry %s" % (msg.uri, target))
    check(msg.get("Route") == [], "strict-routed MESSAGE kept Route %s" %
          msg.get("Route"))
    sipua.check_top_via(msg, sipd, [call.branch])
    uas.respond(msg, 200)
    uac.expect_response(200, call)


def proxy_require(sipd, uac, uas):
    """sipd.8: a request to forward with a Proxy-Require header gets 420
    Bad Extension, listing the option in Unsupported (RFC 3261 16.3
    step 5); it is not forwarded."""
    call = sipua.Call(uac, uas.uri("bob"))
    uac.send(call.request("MESSAGE", extra=[("Proxy-Require", "x-frob")]),
             sipd.port)
    resp = final(uac, call, "a MESSAGE with Proxy-Require")
    check(resp.status == 420, "MESSAGE with Proxy-Require got %d, not 420"
          % resp.status)
    check(resp.get("Unsupported") == ["x-frob"],
          "420 with Unsupported %s" % resp.get("Unsupported"))
    stray = [m for m in uas.collect(sipua.silence()) if m.is_request()]
    check(stray == [], "forwarded anyway: %s" % stray)


def host_name(sipd, uac, uas):
    # resolved through a dnsmasq that knows the name does not exist
    with dnsmasq.Dnsmasq([], zone="example") as dns:
        p = sipdtest.sipctl(sipd, "dns", "server", dns.addr)
        check(p.returncode == 0, "dns server: %s" % p.stderr)
        call = sipua.Call(uac, "sip:bob@nowhere.example")
        uac.send(call.request("MESSAGE"), sipd.port)
        resp = final(uac, call, "a MESSAGE for a host name")
    check(resp.status == 404, "MESSAGE for a host name that does not "
          "exist got %d, not 404" % resp.status)
    stray = [m for m in uas.collect(0.3) if m.is_request()]
    check(stray == [], "sent on anyway: %s" % stray)

    p = sipdtest.sipctl(sipd, "route", "add", "*",
                        "127.0.0.1:%d" % uas.port)
    check(p.returncode == 0, "route add *: %s" % p.stderr)
    call = sipua.Call(uac, "sip:bob@nowhere.example")
    uac.send(call.request("MESSAGE"), sipd.port)
    msg = uas.expect_request("MESSAGE", call.call_id)
    check(msg.uri == "sip:bob@nowhere.example",
          "route * changed the Request-URI to %s" % msg.uri)
    uas.respond(msg, 200)
    uac.expect_response(200, call)
    p = sipdtest.sipctl(sipd, "route", "remove", "*")
    check(p.returncode == 0, "route remove *: %s" % p.stderr)


def sips_tls(sipd, uac, tls_uas):
    target = "sips:bob@127.0.0.2:%d" % tls_uas.port
    call = sipua.Call(uac, target)
    uac.send(call.request("MESSAGE"), sipd.port)
    msg = tls_uas.expect_request("MESSAGE", call.call_id)
    check(isinstance(msg.conn, ssl.SSLSocket), "not over TLS")
    sipua.check_top_via(msg, sipd, [call.branch], "TLS")
    tls_uas.respond(msg, 200)
    uac.expect_response(200, call)


def big_over_tcp(sipd, uac, uas, tcp_uas):
    """uas and tcp_uas share a port, UDP and TCP."""
    for size, proto in ((100, "UDP"), (2000, "TCP")):
        call = sipua.Call(uac, uas.uri("bob"))
        data = call.request("MESSAGE")
        body = b"x" * size
        data = data.replace(b"Content-Length: 0\r\n\r\n",
                            b"Content-Type: text/plain\r\n"
                            b"Content-Length: %d\r\n\r\n" % size) + body
        uac.send(data, sipd.port)
        ua = uas if proto == "UDP" else tcp_uas
        other = tcp_uas if proto == "UDP" else uas
        msg = ua.expect_request("MESSAGE", call.call_id)
        check(msg.body == body, "the body arrived changed (%d bytes)" %
              len(msg.body))
        sipua.check_top_via(msg, sipd, [call.branch], proto)
        stray = [m for m in other.collect(0.2) if m.is_request()]
        check(stray == [], "a %d-byte MESSAGE came over both: %s" % (
            size, stray))
        ua.respond(msg, 200)
        uac.expect_response(200, call)


def udp_and_tcp():
    """A UDP UA and a TCP UA listening on the same port."""
    for _ in range(50):
        uas = sipua.UA()
        if sipua.tcp_free(uas.port):
            try:
                return uas, sipua.StreamUA(port=uas.port)
            except OSError:
                pass  # taken meanwhile
        uas.close()
    raise sipdtest.Fail("no port free for UDP and TCP")


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        cert, key = sipua.self_signed(workdir)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert, key)
        uac = sipua.UA()
        uas, tcp_uas = udp_and_tcp()
        tls_uas = sipua.StreamUA("127.0.0.2", server)
        try:
            sipd = sipua.start_proxy(
                binary, started, tcp=True, tls=(cert, key),
                conf=lambda s: "set tls-client-ca %s\n"
                "set size-limit-lan 1300\nset size-limit-wan 1300" % cert)
            strict_router(sipd, uac, uas)
            proxy_require(sipd, uac, uas)
            host_name(sipd, uac, uas)
            sips_tls(sipd, uac, tls_uas)
            big_over_tcp(sipd, uac, uas, tcp_uas)
        finally:
            for ua in (uac, uas, tcp_uas, tls_uas):
                ua.close()
        sipdtest.stop_clean(sipd)


sipdtest.run(test)
