"""sipd as the edge proxy of another registrar (RFC 3327) for a client
behind a remote NAT that registers over TCP: the client's flow is its
own connection (RFC 5626 5.3), and sipd's Path carries it, signed.

The client holds one TCP connection to sipd from 127.0.0.2 and writes
127.0.0.200 (in the nated list, "nated add 127.0.0.128/25") in its Via
and Contact (sip:alice@127.0.0.200:P;transport=tcp), where nothing
listens.  The registrar stand-in on 127.0.0.5 talks UDP.

- The REGISTER reaches the registrar with one Path naming sipd with a
  signed flow (<sip:fl...@127.0.0.1:PORT;lr>); its 200 comes back to the
  client on its connection.
- An INVITE the registrar sends back through that Path to the client's
  Contact arrives on the client's connection, the one it registered
  over, with the Contact as Request-URI; its 486 reaches the registrar.
- The same INVITE with the Path's signature changed: nothing arrives on
  the client's connection (a forged flow names no connection of
  sipd's).
- The client closes its connection; the same INVITE through the Path
  gets 430 Flow Failed (RFC 5626 5.3), and sipd opens no connection of
  its own toward the client's old address (the stand-in listening there
  accepts none).
The same with a registrar that lacks Path (127.0.0.6, "workaround site
add =127.0.0.6 noPath"): the REGISTER reaches it with no Path and a
Contact of sipd's (sip:np...@127.0.0.1:PORT); an INVITE to that Contact
arrives on the client's connection with the client's own Contact as
Request-URI; once the connection is gone it gets 430, and sipd opens no
connection toward the client's old address.
Against the landed sipd neither the Path's flow nor the noPath Contact
names a connection: with the client connected the INVITE still arrives
(sipd finds the connection by address), but once it is gone sipd tries
a new connection to that address and the registrar gets no 430 (the
430 check fails)."""

import re
import socket
import struct
import time

import sipdtest
from sipdtest import Sipd, check, free_tcp_port
from sipua import UA, Call, StreamUA, new_tag


class NatTcpUA(StreamUA):
    """A TCP client from host that writes advertise in its Via and
    Contact, as a phone behind a NAT writes its private address."""

    def __init__(self, host, advertise, connect):
        super().__init__(host, connect=connect)
        self.advertise = advertise

    def uri(self, user="ua"):
        return "sip:%s@%s:%d;transport=tcp" % (user, self.advertise,
                                                self.port)

    def via(self, branch):
        return "SIP/2.0/TCP %s:%d;branch=%s;rport" % (
            self.advertise, self.port, branch)


def register(client, registrar):
    """client REGISTERs alice@REGISTRAR through sipd; the REGISTER the
    registrar receives, answered 200 (its Path and Contact echoed)."""
    domain = "%s:%d" % (registrar.host, registrar.port)
    hdrs = [("Via", client.via("z9hG4bK" + new_tag())),
            ("Max-Forwards", "70"),
            ("From", "<sip:alice@%s>;tag=%s" % (domain, new_tag())),
            ("To", "<sip:alice@%s>" % domain),
            ("Call-ID", "%s@edge" % new_tag()),
            ("CSeq", "1 REGISTER"),
            ("Contact", "<%s>" % client.uri("alice")),
            ("Supported", "path"),
            ("Expires", "300")]
    text = "REGISTER sip:%s SIP/2.0\r\n" % domain
    text += "".join("%s: %s\r\n" % h for h in hdrs)
    client.send(text.encode() + b"Content-Length: 0\r\n\r\n")
    got = registrar.expect_request("REGISTER")
    registrar.respond(got, 200, extra=[("Path", p)
                                       for p in got.get("Path")] +
                      [("Contact", c) for c in got.get("Contact")])
    ok = client.expect("the registrar's 200",
                       lambda m: not m.is_request() and m.status == 200)
    check(ok.cseq()[1] == "REGISTER", "answer: %r" % ok)
    return got


def invite(sipd, registrar, contact, route):
    """The registrar's INVITE to contact through sipd by route."""
    c = Call(registrar, contact)
    registrar.send(c.request("INVITE", extra=[("Route", route)]),
                   sipd.port)
    return c


def gone(sipd, nated, registrar, contact, route):
    """The client's connection reset: the INVITE to contact (through
    route, None for none) gets 430, and no connection is opened toward
    the client's old address (a listener there now, to see one)."""
    port = nated.port
    # a reset, as a NAT that dropped its mapping answers: no TIME_WAIT
    # keeps the port from the stand-in
    nated.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
    nated.close()
    stand_in = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        stand_in.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 3
        for _ in range(60):
            try:
                stand_in.bind(("127.0.0.2", port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        stand_in.listen(4)
        stand_in.settimeout(0.5)
        time.sleep(0.2)  # sipd sees the reset
        c = Call(registrar, contact)
        registrar.send(c.request("INVITE", extra=[("Route", route)]
                                 if route else []), sipd.port)
        r = registrar.expect("a final response to the INVITE",
                             lambda x: not x.is_request() and
                             x.call_id() == c.call_id and
                             x.status >= 200)
        check(r.status == 430 and r.reason == "Flow Failed",
              "the flow's connection gone: got %d %s, want 430 Flow "
              "Failed" % (r.status, r.reason))
        registrar.send(c.ack(r), sipd.port)
        try:
            conn, _ = stand_in.accept()
            conn.close()
            check(False, "sipd opened a new connection toward the "
                  "client's old address")
        except socket.timeout:
            pass
    finally:
        stand_in.close()


def nopath(sipd, tcp):
    """The noPath registrar on 127.0.0.6: sipd's Contact, then the flow."""
    registrar = UA("127.0.0.6")
    nated = NatTcpUA("127.0.0.2", "127.0.0.200", ("127.0.0.1", tcp))
    try:
        got = register(nated, registrar)
        check(got.get("Path") == [], "Path to a noPath registrar: %r" %
              got.get("Path"))
        contact = got.first("Contact").strip("<>")
        check(re.fullmatch(r"sip:np[-_A-Za-z0-9]+\.[0-9a-f]+@127\.0\.0\.1:"
                           r"%d;transport=udp|sip:np[-_A-Za-z0-9]+\."
                           r"[0-9a-f]+@127\.0\.0\.1:%d" % (sipd.port,
                                                             sipd.port),
                           contact),
              "Contact at the noPath registrar: %r" % contact)
        own = nated.uri("alice")
        c = Call(registrar, contact)
        registrar.send(c.request("INVITE"), sipd.port)
        m = nated.expect_request("INVITE", c.call_id)
        check(m.conn is nated.sock, "noPath: the INVITE came on another "
              "connection")
        check(m.start.split()[1] == own, "noPath: Request-URI %r, want %r"
              % (m.start, own))
        nated.respond(m, 486)
        r = registrar.expect_response(486, c, "INVITE")
        registrar.send(c.ack(r), sipd.port)
        gone(sipd, nated, registrar, contact, None)
    finally:
        registrar.close()
        nated.close()


def test(binary, started):
    tcp = free_tcp_port()
    sipd = Sipd(binary, conf="nated add 127.0.0.128/25\n"
                "listener add tcp 127.0.0.1:%d\n"
                "workaround site add =127.0.0.6 noPath\n" % tcp)
    started.append(sipd)
    sipd.start()
    registrar = UA("127.0.0.5")
    nated = NatTcpUA("127.0.0.2", "127.0.0.200", ("127.0.0.1", tcp))
    try:
        conn = nated.sock
        got = register(nated, registrar)
        path = got.get("Path")
        check(len(path) == 1 and re.fullmatch(
            r"<sip:fl[-_A-Za-z0-9]+\.[0-9a-f]+@127\.0\.0\.1:%d;lr>" %
            sipd.port, path[0]),
              "Path of a NATed TCP client's REGISTER at the registrar: %r"
              % path)
        contact = got.first("Contact").strip("<>")

        inv = invite(sipd, registrar, contact, path[0])
        m = nated.expect_request("INVITE", inv.call_id)
        check(m.conn is conn, "the INVITE came on another connection")
        check(m.start.split()[1] == contact, "Request-URI: %r" % m.start)
        nated.respond(m, 486)
        r = registrar.expect_response(486, inv, "INVITE")
        registrar.send(inv.ack(r), sipd.port)

        # a forged flow: the signature changed
        user = re.match(r"<sip:([^@]+)@", path[0]).group(1)
        bad = path[0].replace(user, user[:-1] + (
            "0" if user[-1] != "0" else "1"))
        inv = invite(sipd, registrar, contact, bad)
        got = nated.collect(1.0)
        check(not [x for x in got if x.is_request() and
                   x.call_id() == inv.call_id],
              "a forged flow reached the client: %r" % got)

        # the connection is gone: 430
        gone(sipd, nated, registrar, contact, path[0])
    finally:
        registrar.close()
        nated.close()
    nopath(sipd, tcp)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
