"""RFC 3261 18.1.1 for targets DNS chose: sip:bob@big.example.test has
one SRV target, _sip._udp (no NAPTR: UDP by RFC 3263 4.1) to
a.example.test = 127.0.0.2 on a port where a UDP and a TCP UAS listen;
sipd with `set size-limit-lan 1300` and `set size-limit-wan 1300`:

- a small MESSAGE arrives over UDP;
- a 2000-byte MESSAGE arrives over TCP at the same address and port,
  with sipd's TCP Via on top, and nothing over UDP;
- the same with `;transport=udp` in the Request-URI (the URI's choice)
  arrives over UDP;
- with `workaround site add big.example.test noTCP` the 2000-byte
  MESSAGE arrives over UDP, and sipd logs the workaround.
Before, a UDP target from DNS was final: the 2000-byte MESSAGE went
over UDP."""

import dnsmasq
import sipdtest
import sipua
from sipdtest import check


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


def message(uac, sipd, uri, size):
    call = sipua.Call(uac, uri)
    data = call.request("MESSAGE")
    body = b"x" * size
    if size:
        data = data.replace(
            b"Content-Length: 0\r\n\r\n",
            b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % size)
    uac.send(data + body, sipd.port)
    return call, body


def arrives(uac, sipd, uri, size, ua, other, proto):
    call, body = message(uac, sipd, uri, size)
    msg = ua.expect_request("MESSAGE", call.call_id, timeout=5.0)
    check(msg.body == body, "the MESSAGE's body changed")
    sipua.check_top_via(msg, sipd, [call.branch], proto)
    stray = [m for m in other.collect(0.2) if m.is_request()]
    check(stray == [], "a %d-byte MESSAGE to %s came over the other "
          "transport too: %s" % (size, uri, stray))
    ua.respond(msg, 200)
    uac.expect_response(200, call)


def test(binary, started):
    uac = sipua.UA()
    uas, tcp_uas = udp_and_tcp()
    records = [
        "--srv-host=_sip._udp.big.example.test,a.example.test,%d,10,0" %
        uas.port,
        "--host-record=a.example.test,127.0.0.2",
    ]
    try:
        with dnsmasq.Dnsmasq(records) as dns:
            sipd = sipua.start_proxy(
                binary, started, tcp=True, conf=lambda s: (
                    "dns server %s\ndns timeout 500\n"
                    "set size-limit-lan 1300\nset size-limit-wan 1300\n"
                    % dns.addr))
            uri = "sip:bob@big.example.test"
            arrives(uac, sipd, uri, 0, uas, tcp_uas, "UDP")
            arrives(uac, sipd, uri, 2000, tcp_uas, uas, "TCP")
            arrives(uac, sipd, uri + ";transport=udp", 2000, uas, tcp_uas,
                    "UDP")
            p = sipdtest.sipctl(sipd, "workaround", "site", "add",
                                "big.example.test", "noTCP")
            check(p.returncode == 0, "workaround site add: %s" % p.stderr)
            arrives(uac, sipd, uri, 2000, uas, tcp_uas, "UDP")
            check(sipd.wait_log("workaround, noTCP"),
                  "no log line for the noTCP workaround")
    finally:
        for ua in (uac, uas, tcp_uas):
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
